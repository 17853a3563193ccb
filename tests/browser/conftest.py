"""Headless Chromium driven by Playwright (the live server is in tests/conftest.py)."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

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
