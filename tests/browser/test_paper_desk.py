"""The paper desk in headless Chromium at 1280 and 360 px: enter, import with errors, export,
and the scans of signed sheets."""

from datetime import date

import pytest

from campaign.accounts.models import Role
from campaign.appeals.operations import publish_appeal
from campaign.extensions import db
from campaign.signatures.operations import SignData
from campaign.signatures.paper import PaperPlace, enter_paper_signature, store_scan
from tests.browser.test_accessibility import AXE, violations
from tests.conftest import PASSWORD
from tests.scan_files import jpeg_scan, pdf_scan

pytestmark = pytest.mark.browser

TABLE = (
    "surname,given_name,region,relationship,email,sheet,line\n"
    "Налоева,Мадина,RU-CE,мать,a@example.org,1,1\n"
    "Aliyeva,Aisha,Атлантида,мать,,1,2\n"
    "=HYPERLINK(1),Айша,RU-CE,мать,,1,3\n"
)


@pytest.fixture
def app_config(tmp_path):
    """As tests/browser/conftest.py's, with uploads kept in the test's folder."""
    return {"SERVER_NAME": None, "SIGN_MIN_SECONDS": 0, "PAPER_FOLDER": str(tmp_path / "paper")}


@pytest.mark.parametrize("width", [1280, 360])
def test_paper_desk_pages(
    live_server, browser, screenshot_dir, make_appeal, make_user, tmp_path, width
):
    editor = make_user()
    appeal = make_appeal(language="ru", title="Верните наших родных", members={editor: Role.editor})
    publish_appeal(appeal, appeal.memberships[0].user, seen_revision=appeal.draft_revision)
    db.session.commit()
    page = browser.new_page(viewport={"width": width, "height": 900}, locale="ru-RU")
    page.goto(f"{live_server}/accounts/login")
    page.fill("#email", editor.email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(lambda url: "/accounts/login" not in url)

    def look(name):
        page.screenshot(path=screenshot_dir / f"paper-{name}-{width}.png", full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (name, overflow)

    page.goto(f"{live_server}/appeals/{appeal.id}/")
    look("overview")
    page.goto(f"{live_server}/appeals/{appeal.id}/paper/new")
    page.fill("#surname", "Хасанова")
    page.click(".paper-form [type=submit]")
    look("new-errors")
    page.goto(f"{live_server}/appeals/{appeal.id}/paper")
    look("desk")
    table = tmp_path / "paper.csv"
    table.write_text(TABLE, "utf-8")
    page.set_input_files("#table", str(table))
    page.click("#upload-submit")
    assert "2 из 3" in page.content() or "строках из 3" in page.content()
    look("import-preview")
    page.goto(f"{live_server}/appeals/{appeal.id}/export")
    look("export")


@pytest.fixture(scope="module")
def axe():
    """axe-core's script, installed by npm at set-up."""
    return AXE.read_text()


@pytest.mark.parametrize("width", [1280, 360])
@pytest.mark.parametrize("locale", ["ru-RU", "en-GB"])
def test_the_scans_of_the_desk(
    live_server,
    browser,
    axe,
    screenshot_dir,
    make_appeal,
    make_user,
    width,
    locale,
):
    editor = make_user()
    appeal = make_appeal(language="ru", title="Верните наших родных", members={editor: Role.editor})
    publish_appeal(appeal, appeal.memberships[0].user, seen_revision=appeal.draft_revision)
    db.session.commit()
    for n, sheet in enumerate((1, 1, 2, 3, 3, 3, None), start=1):
        data = SignData(surname=f"Налоева-{n}", given_name="Айша", region="RU-CE")
        enter_paper_signature(appeal, data, PaperPlace(sheet, n, date(2026, 11, 20)))
    store_scan(appeal, 1, pdf_scan(pages=2))
    store_scan(appeal, 3, jpeg_scan())
    store_scan(appeal, 12, pdf_scan())
    db.session.commit()
    page = browser.new_page(viewport={"width": width, "height": 900}, locale=locale)
    page.goto(f"{live_server}/accounts/login")
    page.fill("#email", editor.email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    language = locale[:2]

    def look(name):
        page.screenshot(
            path=screenshot_dir / f"paper-{name}-{language}-{width}.png", full_page=True
        )
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (name, overflow)
        assert violations(page, axe) == [], name

    page.goto(f"{live_server}/appeals/{appeal.id}/paper")
    assert page.locator("table.sheets-list tbody tr").count() == 3
    assert page.locator("table.sheets-list tr.missing").count() == 1
    look("scans")
    page.click("a[href$='/paper/scans/12/delete']")
    look("scan-delete")
    page.click("#delete-submit")
    assert page.locator("a[href$='/paper/scans/12']").count() == 0
    page.click("a[href*='without_scan=y']")
    assert page.locator("table.signatures-list tbody tr").count() == 2  # sheet 2, no sheet
    look("without-scan")
