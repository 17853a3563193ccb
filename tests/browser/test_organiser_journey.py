"""The organiser's journey in headless Chromium on a 360 px phone and a 1280 px desktop."""

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from campaign.appeals.models import Appeal
from campaign.extensions import db
from tests.mailbox import link_path, mails

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [360, 1280])
def test_organiser_drafts_previews_and_publishes(
    live_server, browser, screenshot_dir, width, outbox
):
    page = browser.new_page(viewport={"width": width, "height": 800}, locale="en-GB")
    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else 0)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(live_server + "/")
    page.click("text=Start an appeal")
    page.fill("#name", "Zarema")
    page.fill("#email", f"zarema{width}@example.org")
    page.fill("#password", "a long passphrase")
    page.fill("#confirm", "a long passphrase")
    page.click("#submit")
    assert "Check your email" in page.content()
    page.screenshot(path=screenshot_dir / f"signup-sent-{width}.png", full_page=True)
    [message] = mails(outbox)
    page.goto(live_server + link_path(message, "/accounts/confirm/"))
    page.fill("#password", "a long passphrase")
    page.screenshot(path=screenshot_dir / f"confirm-{width}.png", full_page=True)
    page.click("#submit")
    assert page.url.endswith("/appeals/")

    page.click("text=New appeal")
    page.click("#submit")  # empty: errors, nothing saved
    assert page.locator(".error").first.is_visible()
    page.screenshot(path=screenshot_dir / f"new-errors-{width}.png", full_page=True)

    page.fill("#title", "Верните наших родных домой")
    page.fill("#addressees-0-name", "Vladimir Putin")
    page.fill("#addressees-0-office", "President of the Russian Federation")
    page.fill("#body", "Мы просим **вернуть** наших родных.\n\n> Судить дома.")
    page.click("#add_addressee")  # one more row, the text stays
    assert page.input_value("#title") == "Верните наших родных домой"
    page.fill("#addressees-1-name", "Tatiana Moskalkova")
    page.click("#submit")
    assert "The draft is saved." in page.content()

    page.click("nav.tabs >> text=Preview")
    assert page.locator(".letter-body strong").inner_text() == "вернуть"
    page.screenshot(path=screenshot_dir / f"preview-{width}.png", full_page=True)
    page.go_back()

    page.click("text=Publish version 1")
    assert "Version 1 is published." in page.content()
    page.screenshot(path=screenshot_dir / f"published-{width}.png", full_page=True)

    appeal = db.session.scalar(select(Appeal))
    page.goto(f"{live_server}/a/{appeal.slug}")
    assert page.locator("h1.letter-title").inner_text() == "Верните наших родных домой"
    assert page.locator(".addressees li").count() == 2
    # Nothing sticks out sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=screenshot_dir / f"public-{width}.png", full_page=True)

    page.click("button[name=ru]")
    assert page.locator("html").get_attribute("lang") == "ru"

    assert hosts == {urlsplit(live_server).netloc}
    assert problems == []
    page.close()
