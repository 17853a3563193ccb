"""Headless Chromium driven by Playwright (the live server is in tests/conftest.py)."""

import functools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def app_config() -> dict[str, object]:
    """The browser talks to the server by its address; signing is not slowed down."""
    return {"SERVER_NAME": None, "SIGN_MIN_SECONDS": 0}


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for this package's tests only.

    Playwright's sync API keeps an event loop running in the main thread while it is open;
    code run by later tests that calls asyncio.run() (pyHanko's signing) would fail under it.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run 'apt-get install chromium' (make test does).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def settled_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """After every click or key press, wait until the page it may have opened has loaded.

    Playwright returns from a click once the navigation it started has committed: the URL is the
    new page's, but its document may still be empty (a CI run read '' from page.content() right
    after submitting a form). Reading the page then is a race; waiting for its load event is not,
    and a click that opened nothing returns at once. One place, so no test can forget it.
    """

    def settled(action: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(action)
        def act(self: Page | Locator, *args: Any, **kwargs: Any) -> Any:
            result = action(self, *args, **kwargs)
            (self if isinstance(self, Page) else self.page).wait_for_load_state()
            return result

        return act

    for kind in (Page, Locator):
        for name in ("click", "press", "check"):
            monkeypatch.setattr(kind, name, settled(getattr(kind, name)))


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """Where screenshots go: $SCREENSHOT_DIR when set (to look at them), else a temp dir."""
    path = Path(os.environ.get("SCREENSHOT_DIR", tmp_path / "screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def draw(page: Page, selector: str) -> None:
    """Draw a signature-like stroke with the mouse on the element."""
    box = page.locator(selector).bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 20, y + box["height"] * 0.7)
    page.mouse.down()
    for step in range(1, 30):
        page.mouse.move(x + 20 + step * 8, y + box["height"] * (0.7 - 0.4 * ((step % 6) / 6)))
    page.mouse.up()
