"""What the browser tests do in a page: axe-core's findings, screenshots at two widths."""

from __future__ import annotations

from functools import cache
from typing import Any

from playwright.async_api import Page

from .conftest import AXE, SCREENSHOTS, WIDTHS


@cache
def axe_source() -> str:
    return AXE.read_text()


def screenshots_dir() -> str:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS)


# What axe may report: anything below "serious" is a note, not a failure.
BLOCKING = {"serious", "critical"}


async def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now (WCAG 2 A/AA rules).
    Evaluated through the DevTools protocol, so the page's CSP (no script) need not allow it."""
    await page.evaluate(axe_source())
    violations = await page.evaluate(
        """async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']}))
            .violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                   nodes: v.nodes.map(n => n.target.join(' '))}))"""
    )
    return [v for v in violations if v["impact"] in BLOCKING]


async def screenshots(page: Page, name: str) -> None:
    """The page at each width, full length: docs/screenshots/<name>-<width>.png under `make screenshots`."""
    where = screenshots_dir()
    for label, size in WIDTHS.items():
        await page.set_viewport_size(size)
        await page.screenshot(path=f"{where}/{name}-{label}.png", full_page=True)
    await page.set_viewport_size(WIDTHS["desktop"])
