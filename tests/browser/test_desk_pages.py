"""The desk's list, a signature's page, the bulk confirmation, the audit log and the
statistics, and the organiser's other pages, hold up in a browser: no axe-core violation, no
horizontal scroll on a phone, in Russian and English; screenshots of the desk's pages go to
$SCREENSHOT_DIR to be looked at."""

import pytest

from campaign.appeals.operations import publish_appeal
from campaign.extensions import db
from campaign.signatures.moderation import flag_signature
from tests.browser.test_accessibility import violations
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

# Imported for its fixture.
from tests.browser.test_accessibility import axe_source  # noqa: E402, F401

# Where each stacked table's values start, per table (left edge of each cell's content).
STACKED_VALUE_STARTS = """() => [...document.querySelectorAll('table.stack')].map(table =>
  [...table.querySelectorAll('td[data-label]')].filter(td => td.textContent.trim()).map(td => {
    const range = document.createRange();
    range.selectNodeContents(td);
    return Math.round(range.getClientRects()[0].left);
  }))"""


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("width", [360, 1280])
def test_the_desk_pages_hold_up(
    live_server,
    browser,
    axe_source,  # noqa: F811
    make_user,
    make_appeal,
    make_signature,
    screenshot_dir,
    language,
    width,
):
    owner = make_user(language=language)
    appeal = make_appeal(owner=owner, language="ru", country="RU", title="Верните наших родных")
    publish_appeal(appeal, owner, seen_revision=appeal.draft_revision)
    db.session.commit()
    first = make_signature(
        appeal,
        surname="Налоева",
        given_name="Мадина",
        email="madina.naloeva.long.address@example.org",
        town="Achkhoy-Martanovskiy-rayon",
    )
    make_signature(appeal, surname="Naloyeva", given_name="Madina", region="RU-CE")
    make_signature(
        appeal, surname="Гаджиева", given_name="Айша", region="RU-DA", relationship="жена"
    )
    # A short value: its label is not wrapped to make room.
    make_signature(
        appeal, surname="Умарова", given_name="Заира", region="RU-KB", relative_location="Багдад"
    )
    flag_signature(first, seen_revision=0, actor_id=owner.id, reason="проверить")
    db.session.commit()
    page = browser.new_page(
        viewport={"width": width, "height": 900}, locale="ru-RU" if language == "ru" else "en-GB"
    )
    page.goto(live_server + "/accounts/login")
    page.fill("#email", owner.email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    found, widths = {}, {}

    def audit(name, shot=True):
        found[name] = violations(page, axe_source)
        widths[name] = page.evaluate("document.documentElement.scrollWidth")
        if shot:
            path = screenshot_dir / f"desk-{name}-{language}-{width}.png"
            page.screenshot(path=path, full_page=True)

    base = f"{live_server}/appeals/{appeal.id}/"
    page.goto(base + "signatures")
    assert page.locator("table.signatures-list tbody tr").count() == 4
    audit("list")
    page.goto(base + "signatures?signed_from=06.12&status=eaten")
    assert page.locator(".error").count() == 2
    audit("list-errors")
    page.goto(base + "signatures")
    page.locator("input[name=signature]").nth(0).check()
    page.locator("input[name=signature]").nth(1).check()
    page.select_option("#action", "reject")
    page.click(".bulk-actions button")
    audit("bulk-confirm")
    page.click("form [name=confirm]")
    assert page.locator(".error").count() == 1  # a reason is needed
    audit("bulk-confirm-errors")
    page.goto(base + f"signatures/{first.id}")
    audit("detail")
    page.goto(base + "audit")
    audit("audit")
    page.goto(base + "statistics")
    assert page.locator("svg.chart").count() == 1
    # The curve's labels are read at the page's size, on a phone too (not shrunk with it).
    heights = page.eval_on_selector_all(
        ".curve span", "spans => spans.map(s => s.getBoundingClientRect().height)"
    )
    assert len(heights) >= 3 and min(heights) >= 12
    assert page.locator("table.bar-table progress").count() >= 3
    audit("statistics")
    # On a phone each row of a table stacks as label and value: the values of a table start
    # at one edge, whatever the length of their labels ("Где содержится" pushed its own).
    if width == 360:
        page.goto(base + "families")
        assert page.locator("table.stack td[data-label]").count() >= 6
        starts = page.evaluate(STACKED_VALUE_STARTS)
        assert all(len(set(table)) == 1 for table in starts), starts
    # The organiser's other pages, in both languages too.
    for name in (
        "",
        "edit",
        "preview",
        "settings",
        "dossiers",
        "members",
        "duplicates",
        "families",
        "paper",
        "paper/new",
        "export",
    ):
        page.goto(base + name)
        audit(f"organiser {name or 'overview'}", shot=False)
    assert {name: problems for name, problems in found.items() if problems} == {}
    assert {name: w for name, w in widths.items() if w > width} == {}
