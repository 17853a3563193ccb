"""Screenshot the main pages at 1280 and 360 px wide, for a person to look at.

Usage: python tools/screenshots.py BASE_URL EMAIL PASSWORD OUTDIR
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    """Log in and capture each page at both widths."""
    base, email, password, out = sys.argv[1:5]
    outdir = Path(out)
    outdir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for width in (1280, 360):
            page = browser.new_page(viewport={"width": width, "height": 900}, locale="ru-RU")
            page.goto(base + "/")
            page.screenshot(path=outdir / f"home-{width}.png", full_page=True)
            page.goto(base + "/accounts/login")
            page.fill("#email", email)
            page.fill("#password", "wrong password")
            page.click("#submit")
            page.screenshot(path=outdir / f"login-error-{width}.png", full_page=True)
            page.fill("#password", password)
            page.click("#submit")
            page.screenshot(path=outdir / f"dashboard-{width}.png", full_page=True)
            page.click("table.list a")
            page.screenshot(path=outdir / f"show-{width}.png", full_page=True)
            appeal_url = page.url
            for name in ("edit", "preview", "members", "settings", "dossiers"):
                page.goto(appeal_url + name)
                page.screenshot(path=outdir / f"{name}-{width}.png", full_page=True)
            page.goto(appeal_url + "dossiers")
            page.click("#edition-1")  # the public edition
            page.click("#submit")
            page.screenshot(path=outdir / f"dossier-job-{width}.png", full_page=True)
            page.wait_for_selector("a.button[href$='.pdf']", timeout=300_000)
            page.screenshot(path=outdir / f"dossier-ready-{width}.png", full_page=True)
            snapshot_page = page.locator("dd code.hash").first.inner_text()
            page.goto(base + "/verify/")
            page.fill("#fingerprint", snapshot_page)
            page.click("#submit")
            page.screenshot(path=outdir / f"verify-match-{width}.png", full_page=True)
            page.goto(base + f"/verify/{snapshot_page}")
            page.screenshot(path=outdir / f"verify-snapshot-{width}.png", full_page=True)
            page.goto(base + "/verify/")
            page.click("#submit")
            page.screenshot(path=outdir / f"verify-error-{width}.png", full_page=True)
            page.goto(appeal_url + "diff?old=1&new=draft")
            page.screenshot(path=outdir / f"diff-{width}.png", full_page=True)
            page.goto(base + "/appeals/new")
            page.click("#submit")
            page.screenshot(path=outdir / f"new-errors-{width}.png", full_page=True)
            page.goto(base + "/a/vernite-nashikh-detei")
            page.screenshot(path=outdir / f"public-{width}.png", full_page=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
