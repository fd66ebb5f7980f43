"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright (never
`playwright install`). Importing this skips the importing test module, saying why, when either is missing.
Screenshots are kept in tests/artifacts/ (gitignored)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

try:
    from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright
except ImportError:
    pytest.skip("playwright is not installed (pip install playwright)", allow_module_level=True)

# expect() waits 5 s unless told (a page's set_default_timeout does not reach it): on a busy CI machine
# a job reaching "succeeded" and a page re-rendering take longer than that.
expect.set_options(timeout=30_000)

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)", allow_module_level=True)

# Test modules take Playwright's names from here, so a missing package skips them instead of failing.
__all__ = ["ARTIFACTS", "Browser", "ConsoleMessage", "Page", "chromium", "expect", "screenshot"]

ARTIFACTS = Path(__file__).parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, until the block ends."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: Page, name: str) -> None:
    """Keep the whole page as tests/artifacts/NAME."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
