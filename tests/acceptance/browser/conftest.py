"""Headless Chromium for the client pages, driven through the gateway like a client's browser.

Debian's `chromium` (make browser-install: apt) driven by Playwright's Python package (a dev
dependency; it downloads no browser of its own), and axe-core from npm in a cache, run in the
same page. Both are installed before pytest starts; a machine where they cannot be (no root for
apt, no npm) skips these tests with that reason. Screenshots at phone and desktop widths go to
ALIGNED_SCREENSHOTS (`make screenshots`: docs/screenshots), else under the run's own logs.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from aligned_testing.infra import REPO_ROOT

AXE_VERSION = "4.11.0"  # as deploy/local/browser.sh fetches it
CHROMIUM = Path(os.environ.get("ALIGNED_CHROMIUM", "/usr/bin/chromium"))
AXE = (
    Path(os.environ.get("ALIGNED_AXE_CACHE", REPO_ROOT / ".local" / "cache" / "axe-core"))
    / f"axe-core-{AXE_VERSION}"
    / "axe.min.js"
)
SCREENSHOTS = Path(os.environ.get("ALIGNED_SCREENSHOTS") or REPO_ROOT / ".local" / "e2e-logs" / "screenshots")
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


def missing() -> str | None:
    """Why these tests cannot run here, if they cannot."""
    if not CHROMIUM.exists():
        return f"no {CHROMIUM}: `make browser-install` installs Debian's chromium, which needs root or sudo"
    if not AXE.exists():
        return f"no {AXE}: `make browser-install` fetches axe-core {AXE_VERSION} with npm"
    return None


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    if reason := missing():
        pytest.skip(reason)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        await browser.close()


@pytest.fixture
async def page(chromium: Browser) -> AsyncIterator[Page]:
    context = await chromium.new_context(viewport=WIDTHS["desktop"], locale="en-GB")
    page = await context.new_page()
    yield page
    await context.close()
