"""Two-step login in the browser, in Russian on a phone and a desktop: set up from the QR
code, the recovery codes, the code asked at login, and the account page's sessions; axe-core
finds no violation on any of these pages."""

import time

import pyotp
import pytest

from campaign.accounts.models import User
from campaign.extensions import db
from tests.browser.test_accessibility import axe_source, violations  # noqa: F401  (fixture)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def code(user_id, offset=0):
    """The code of the time step `offset` steps from now, with time left to send it: near the
    end of a step, wait for the next (a code for step -1 read 1 s before a step ends is two steps
    old, out of the window, when it arrives on a loaded machine)."""
    db.session.expire_all()
    totp = pyotp.TOTP(db.session.get(User, user_id).totp_secret)
    left = totp.interval - time.time() % totp.interval
    if left < 10:
        time.sleep(left + 0.1)
    return totp.at(time.time() + offset * totp.interval)


@pytest.mark.parametrize("width", [360, 1280])
def test_setting_up_and_logging_in_with_two_steps(
    live_server,
    browser,
    axe_source,  # noqa: F811  (the fixture imported above)
    make_user,
    width,
):
    user = make_user(language="ru")
    page = browser.new_page(viewport={"width": width, "height": 800}, locale="ru-RU")
    found = {}

    def audit(name):
        found[name] = violations(page, axe_source)
        width_used = page.evaluate("document.documentElement.scrollWidth")
        assert width_used <= width, f"{name}: {width_used} px wide"

    page.goto(live_server + "/accounts/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.goto(live_server + "/accounts/two-step")
    audit("two-step login, off")
    page.click("#submit")
    assert page.locator("img[src^='data:image/svg+xml']").count() == 1
    audit("two-step login, QR code")
    page.fill("#code", "000000")
    page.fill("#current", PASSWORD)
    page.click("form[action*='enable'] #submit")
    assert page.locator("p.error").count() == 1
    audit("two-step login, wrong code")
    page.fill("#code", code(user.id, -1))
    page.fill("#current", PASSWORD)
    page.click("form[action*='enable'] #submit")
    codes = page.locator("ol.codes li").all_inner_texts()
    assert len(codes) == 10
    audit("recovery codes")
    page.goto(live_server + "/accounts/two-step")
    audit("two-step login, on")
    page.goto(live_server + "/accounts/settings")
    assert page.locator("ul.sessions li").count() == 1
    audit("account, sessions")

    page.click("form[action$='/accounts/sessions/end'] button")
    assert page.url.endswith("/accounts/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    assert page.url.endswith("/accounts/login/code")
    audit("second step")
    page.fill("#code", "000000")
    page.click("#submit")
    assert page.locator("p.error").count() == 1
    audit("second step, wrong code")
    page.fill("#code", codes[0])
    page.click("#submit")
    assert page.url.endswith("/appeals/")
    assert page.locator(".flash-success").count() == 1  # a recovery code used: 9 left

    assert {name: problems for name, problems in found.items() if problems} == {}
