"""The paper desk in headless Chromium at 1280 and 360 px: enter, import with errors, export."""

import pytest

from campaign.accounts.models import Role
from campaign.appeals.operations import publish_appeal
from campaign.extensions import db
from tests.conftest import PASSWORD

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
