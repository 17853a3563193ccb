"""axe-core (from the npm registry, installed at set-up) finds no violation on the main pages.

Each page is audited in Russian as a visitor or organiser reaches it, error states included,
on a phone and on a desktop.
"""

from pathlib import Path

import pytest

from campaign.appeals.operations import (
    AddresseeData,
    AppealData,
    close_appeal,
    publish_appeal,
    update_appeal,
)
from campaign.extensions import db
from tests.browser.conftest import draw
from tests.conftest import PASSWORD
from tests.mailbox import link_path, mails

pytestmark = pytest.mark.browser

AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run 'make install-test' (npm install).")
    return AXE.read_text()


def violations(page, axe_source):
    # Evaluated through the DevTools protocol: the site's Content-Security-Policy stays as is.
    page.evaluate(axe_source)
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{item['id']} ({item['impact']}): {[node['target'] for node in item['nodes'][:3]]}"
        for item in result["violations"]
    ]


@pytest.mark.parametrize("width", [360, 1280])
def test_no_violation_on_the_main_pages(
    live_server, browser, axe_source, make_user, make_appeal, outbox, width
):
    owner = make_user(language="ru")
    appeal = make_appeal(owner=owner, language="ru", title="Верните наших родных", goal=50)
    publish_appeal(appeal, owner, seen_revision=appeal.draft_revision)
    db.session.commit()
    page = browser.new_page(viewport={"width": width, "height": 800}, locale="ru-RU")
    found = {}

    def audit(name):
        found[name] = violations(page, axe_source)

    def visit(name, path):
        page.goto(live_server + path)
        audit(name)

    visit("home", "/")
    visit("sign-up", "/accounts/signup")
    page.click("#submit")
    audit("sign-up, errors")
    visit("forgotten password", "/accounts/reset")
    visit("verify", "/verify/")
    page.click("#submit")
    audit("verify, error")

    visit("appeal", f"/a/{appeal.slug}")
    page.click("#submit")
    audit("appeal, errors")
    page.fill("#surname", "Налоева")
    page.fill("#given_name", "Мадина")
    page.select_option("#region", "RU-CE")
    page.select_option("#relationship", "мать")
    page.locator("canvas").scroll_into_view_if_needed()
    draw(page, "canvas")
    page.check("#consent")
    page.click("#submit")
    assert "/thanks" in page.url
    audit("thanks")
    visit("withdraw", page.input_value("#withdraw-url").removeprefix("http://campaign.test"))

    visit("log in", "/accounts/login")
    page.fill("#email", owner.email)
    page.fill("#password", "not the password")
    page.click("#submit")
    audit("log in, error")
    page.fill("#password", PASSWORD)
    page.click("#submit")
    audit("my appeals")
    base = f"/appeals/{appeal.id}/"
    for name in ("", "edit", "preview", "settings", "dossiers", "versions/1", "members"):
        visit(f"organiser {name or 'overview'}", base + name)
    page.click("form.row-form #submit")  # a new invitation link is shown
    audit("organiser members, invitation")
    visit("leave, as the last owner", base + "leave")
    page.goto(live_server + base + "edit")
    saved_meanwhile = AppealData(
        title=appeal.title,
        language=appeal.language,
        addressees=tuple(AddresseeData(a.name, a.office) for a in appeal.addressees),
        body="Текст, сохранённый соорганизатором.",
    )
    update_appeal(appeal, saved_meanwhile, seen_revision=appeal.draft_revision)
    db.session.commit()
    page.click("form.appeal-form #submit")
    assert page.locator(".panel.conflict").count() == 1
    audit("organiser edit, conflict")
    visit("new appeal", "/appeals/new")
    page.click("#submit")
    audit("new appeal, errors")
    visit("account", "/accounts/settings")
    page.fill("#password-current", "не тот пароль")
    page.click("#password-submit")
    audit("account, errors")
    page.fill("#email-email", "novyi@example.org")
    page.fill("#email-current", PASSWORD)
    page.click("#email-submit")
    assert page.locator(".notice").count() == 1
    audit("account, new address asked")
    visit("confirm a new address", link_path(mails(outbox)[-1], "/accounts/email/"))
    page.click("#submit")
    audit("confirm a new address, errors")
    page.fill("#current", PASSWORD)
    page.click("#submit")
    assert page.locator(".flash-success").count() == 1
    undo = link_path(mails(outbox)[-1], "/accounts/email/undo/")
    visit("bring an account back", undo)
    page.click("#submit")
    audit("bring an account back, errors")
    draft = make_appeal(owner=owner, language="ru", title="Черновик")
    visit("delete a draft", f"/appeals/{draft.id}/delete")

    page.goto(live_server + base + "dossiers")
    page.check("#edition-1")  # public
    page.click("#submit")
    page.wait_for_selector("a.button[href$='.pdf']", timeout=120_000)
    audit("dossier ready")
    fingerprint = page.locator("dd code.hash").first.inner_text()
    visit("organiser dossiers, a snapshot", base + "dossiers")
    page.goto(live_server + "/verify/")
    page.fill("#fingerprint", fingerprint)
    page.click("#submit")
    assert page.locator(".flash-success").count() == 1
    audit("verify, match")
    page.click("dd a")  # the snapshot's own page
    assert page.url.startswith(f"{live_server}/verify/") and not page.url.endswith("/verify/")
    audit("verified snapshot")

    visit("privacy", "/privacy")
    close_appeal(appeal)
    db.session.commit()
    visit("erase private details", base + "private-data")
    page.click("#submit")
    audit("erase private details, errors")

    assert len(found) == 40
    assert {name: problems for name, problems in found.items() if problems} == {}


@pytest.mark.parametrize("width", [360, 1280])
def test_no_violation_on_the_desks_duplicates_and_families(
    live_server, browser, axe_source, make_user, make_appeal, make_signature, width
):
    owner = make_user(language="ru")
    appeal = make_appeal(owner=owner, language="ru", country="RU", title="Верните наших родных")
    publish_appeal(appeal, owner, seen_revision=appeal.draft_revision)
    db.session.commit()
    make_signature(appeal, surname="Налоева", given_name="Мадина", relative_name="Ислам Налоев")
    make_signature(
        appeal,
        surname="Naloyeva",
        given_name="Madina",
        town="Achkhoy-Martanovskiy-rayon",  # a long word on a phone
        relative_name="Islam Naloyev",
        children=5,
    )
    make_signature(appeal, surname="Гаджиева", relative_name="Султан", region="RU-DA")
    page = browser.new_page(viewport={"width": width, "height": 800}, locale="ru-RU")
    page.goto(live_server + "/accounts/login")
    page.fill("#email", owner.email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    found, widths = {}, {}

    def audit(name):
        found[name] = violations(page, axe_source)
        widths[name] = page.evaluate("document.documentElement.scrollWidth")

    base = f"{live_server}/appeals/{appeal.id}/"
    page.goto(base + "duplicates")
    assert page.locator("section.pair").count() == 1
    audit("duplicates")
    page.goto(base + "families")
    assert page.locator("section.family").count() == 2
    audit("families")
    page.locator("input[name=family]").first.check()
    page.click("button[name=merge]")
    assert page.locator(".flash-error").count() == 1
    audit("families, merge refused")
    page.click("a[href$='/split']")
    audit("split a family")
    page.click("button[name=split]")
    assert page.locator(".flash-error").count() == 1
    audit("split a family, refused")
    page.goto(base + "families")
    page.click("button[name=recompute]")
    audit("families, recomputed")
    assert {name: problems for name, problems in found.items() if problems} == {}
    assert {name: w for name, w in widths.items() if w > width} == {}
