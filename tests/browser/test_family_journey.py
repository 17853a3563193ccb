"""The family journey in headless Chromium on a 360 px phone, signature drawn with the mouse."""

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from campaign.appeals.operations import publish_appeal
from campaign.extensions import db
from campaign.signatures.models import Signature, SignatureStatus
from tests.browser.conftest import draw

pytestmark = pytest.mark.browser


@pytest.fixture
def published(make_appeal):
    """A published appeal in English."""
    appeal = make_appeal()
    publish_appeal(appeal, appeal.memberships[0].user, seen_revision=appeal.draft_revision)
    db.session.commit()
    return appeal


def fill_in(page, surname="Naloeva"):
    """Fill the sign form's required fields but the signature and the consent."""
    if surname:
        page.fill("#surname", surname)
    page.fill("#given_name", "Madina")
    page.select_option("#region", "RU-CE")
    page.select_option("#relationship", "mother")


def test_sign_with_a_drawn_signature_then_withdraw(
    live_server, browser, screenshot_dir, make_appeal
):
    appeal = make_appeal(goal=10, language="ru", title="Верните наших родных")
    publish_appeal(appeal, appeal.memberships[0].user, seen_revision=appeal.draft_revision)
    db.session.commit()
    page = browser.new_page(viewport={"width": 360, "height": 780}, locale="ru-RU", has_touch=False)
    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else 0)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{live_server}/a/{appeal.slug}")
    assert page.locator(".count strong").inner_text() == "0"
    assert page.evaluate("document.querySelector('.qr img').naturalWidth") > 0
    page.fill("#surname", "Налоева")
    page.fill("#given_name", "Мадина")
    page.select_option("#region", "RU-CE")
    page.select_option("#relationship", "мать")
    page.fill("#email", "madina@example.org")
    assert page.locator("canvas").is_visible()
    assert not page.locator("#typed_signature").is_visible()  # scripts on: the pad replaces it
    page.locator("canvas").scroll_into_view_if_needed()
    draw(page, "canvas")
    page.check("#consent")
    page.screenshot(path=screenshot_dir / "sign-filled-360.png", full_page=True)
    page.click("#submit")

    assert "/thanks" in page.url
    page.screenshot(path=screenshot_dir / "thanks-360.png", full_page=True)
    withdraw_url = page.input_value("#withdraw-url")
    # The link carries the site's public address (PUBLIC_URL); this test server has another.
    assert withdraw_url.startswith("http://campaign.test/a/")
    assert "/withdraw/" in withdraw_url
    signature = db.session.scalar(select(Signature))
    assert signature.image is not None and signature.image.png.startswith(b"\x89PNG")
    assert signature.image.width > 100

    page.goto(f"{live_server}/a/{appeal.slug}")
    assert page.locator(".count strong").inner_text() == "1"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=screenshot_dir / "public-after-360.png", full_page=True)

    page.goto(live_server + urlsplit(withdraw_url).path)
    page.click("#submit")
    assert re.search("отозвана|withdrawn", page.content())
    page.goto(f"{live_server}/a/{appeal.slug}")
    assert page.locator(".count strong").inner_text() == "0"
    db.session.expire_all()
    assert db.session.scalar(select(Signature.status)) is SignatureStatus.withdrawn
    assert hosts == {urlsplit(live_server).netloc}
    assert problems == []  # no script error, no Content-Security-Policy violation
    page.close()


def test_a_drawn_signature_survives_a_refused_form(live_server, browser, published):
    page = browser.new_page(viewport={"width": 360, "height": 780})
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{live_server}/a/{published.slug}")
    fill_in(page, surname=None)
    page.locator("canvas").scroll_into_view_if_needed()
    draw(page, "canvas")
    page.check("#consent")
    page.click("#submit")  # no surname: refused
    assert page.locator("p.error").all_inner_texts() == ["Enter your surname."]
    # The pad shows her signature again (some pixel is inked), and it is what gets sent.
    page.wait_for_function(
        "() => { const c = document.querySelector('canvas');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; }"
    )
    page.fill("#surname", "Naloeva")
    page.click("#submit")
    assert "/thanks" in page.url, page.locator("p.error").all_inner_texts()
    signature = db.session.scalar(select(Signature))
    assert signature.image is not None and signature.image.width > 100
    assert problems == []
    page.close()


def test_a_double_tap_on_sign_signs_once(live_server, browser, published):
    page = browser.new_page(viewport={"width": 360, "height": 780})
    page.goto(f"{live_server}/a/{published.slug}")
    fill_in(page)
    page.locator("canvas").scroll_into_view_if_needed()
    draw(page, "canvas")
    page.check("#consent")
    page.dblclick("#submit")
    page.wait_for_url(lambda url: "/thanks" in url)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 1
    page.close()


def test_the_sign_form_goes_once_per_page_view(live_server, browser, published):
    page = browser.new_page()
    page.goto(f"{live_server}/a/{published.slug}")
    # Registered after the page's own listener, this one sees whether it let a submit through.
    let_through = page.evaluate(
        """() => {
            const form = document.querySelector("form.sign-form");
            let passed = 0;
            form.addEventListener("submit", (event) => {
                if (!event.defaultPrevented) passed += 1;
                event.preventDefault();
            });
            form.requestSubmit();
            form.requestSubmit();
            return passed;
        }"""
    )
    assert let_through == 1
    page.close()


def test_without_scripts_the_typed_name_signs(app, live_server, browser, published):
    app.config["WTF_CSRF_ENABLED"] = True  # as in production: the page shared by all has no token
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 780})
    page = context.new_page()
    page.goto(f"{live_server}/a/{published.slug}")
    assert not page.locator("canvas").is_visible()
    fill_in(page)
    page.fill("#typed_signature", "Madina Naloeva")
    page.check("#consent")
    page.click("#submit")
    # Without the script that fetches her token, the form comes back once, as she filled it.
    assert "please check the form and send it once more" in page.content()
    assert page.input_value("#typed_signature") == "Madina Naloeva"
    assert db.session.scalar(select(Signature.typed_signature)) is None
    page.check("#consent")
    page.click("#submit")
    assert "/thanks" in page.url
    assert db.session.scalar(select(Signature.typed_signature)) == "Madina Naloeva"
    context.close()


def test_who_cannot_draw_can_type_her_name(live_server, browser, published):
    page = browser.new_page(viewport={"width": 360, "height": 780})
    page.goto(f"{live_server}/a/{published.slug}")
    fill_in(page)
    page.click("[data-type-instead]")
    assert not page.locator("canvas").is_visible()
    page.keyboard.type("Madina Naloeva")  # the typed field has the focus
    page.check("#consent")
    page.click("#submit")
    assert "/thanks" in page.url
    assert db.session.scalar(select(Signature.typed_signature)) == "Madina Naloeva"
    page.close()


def test_a_refused_typed_name_stays_in_sight_with_its_error(live_server, browser, published):
    page = browser.new_page(viewport={"width": 360, "height": 780})
    page.goto(f"{live_server}/a/{published.slug}")
    fill_in(page)
    page.click("[data-type-instead]")
    page.keyboard.type("Madina\u200b Naloeva")  # an invisible character: refused
    page.check("#consent")
    page.click("#submit")
    typed = page.locator("#typed_signature")
    assert typed.is_visible() and typed.input_value() == "Madina\u200b Naloeva"
    error = page.locator(".typed p.error")
    assert error.is_visible(), page.locator("p.error").all_inner_texts()
    assert not page.locator("canvas").is_visible()
    typed.fill("Madina Naloeva")
    page.click("#submit")
    assert "/thanks" in page.url
    assert db.session.scalar(select(Signature.typed_signature)) == "Madina Naloeva"
    page.close()


def test_a_helper_unticked_again_is_not_recorded(live_server, browser, published):
    page = browser.new_page(viewport={"width": 360, "height": 780})
    page.goto(f"{live_server}/a/{published.slug}")
    fill_in(page)
    assert not page.locator("#helper_name").is_visible()
    page.check("#on_behalf")
    page.fill("#helper_name", "Her grandson Adam")
    page.uncheck("#on_behalf")  # she fills it in herself after all
    assert not page.locator("#helper_name").is_visible()
    page.click("[data-type-instead]")
    page.keyboard.type("Madina Naloeva")
    page.check("#consent")
    page.click("#submit")
    assert "/thanks" in page.url
    assert db.session.scalar(select(Signature.helper_name)) is None  # no helper: none stored
    page.close()


def test_copying_her_link_is_announced(live_server, browser, published):
    context = browser.new_context(viewport={"width": 360, "height": 780})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page = context.new_page()
    page.goto(f"{live_server}/a/{published.slug}")
    fill_in(page)
    page.click("[data-type-instead]")
    page.keyboard.type("Madina Naloeva")
    page.check("#consent")
    page.click("#submit")
    assert "/thanks" in page.url
    status = page.locator("#withdraw-url ~ [data-copied]")
    assert status.get_attribute("role") == "status" and status.inner_text() == ""
    page.click("[data-copy='#withdraw-url']")
    status.filter(has_text="Copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == page.input_value("#withdraw-url")
    context.close()
