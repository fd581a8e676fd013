"""The client report page, `/report/{token}`: a read-only report a client opens from a link,
without an account.

A browser (Accept: text/html) gets a server-rendered page (Jinja2 templates in templates/, one
stylesheet in static/, charts as inline SVG drawn here); any other client gets the same report
as JSON, and an error as problem+json. Every word is from the message catalogues (messages.py)
in the link's language. The same shape as approval's pages (ADR 0024); ADR 0031 says why it is
not shared yet.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from aligned_analytics.domain.charts import bar_chart
from aligned_analytics.domain.report_links import LANGUAGES
from aligned_analytics.messages import FALLBACK, catalogue, text
from aligned_common.errors import DomainError
from aligned_common.platforms import get_platform
from aligned_common.platforms.errors import UnknownPlatform
from aligned_common.problems import Problem, problem_of

PACKAGE = Path(__file__).resolve().parent.parent
# Served by us (the GET in report_http.py), so the CSP needs no 'unsafe-inline' and no other host.
STYLESHEET_PATH = "/report/assets/report.css"
STYLESHEET = (PACKAGE / "static" / "report.css").read_bytes()

# The token in the URL is the credential: never sent on as a Referer, never cached, never framed.
# No script at all; the charts are inline SVG (presentation attributes, no style attributes).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}

TEMPLATES = Environment(
    loader=FileSystemLoader(PACKAGE / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,  # a misspelt field fails the page's test, not the client silently
    trim_blocks=True,
    lstrip_blocks=True,
)


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def stylesheet() -> Response:
    return Response(
        STYLESHEET,
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def language_of(request: Request, preferred: str | None = None) -> str:
    """The link's language; else the browser's first one we have; else English."""
    if preferred in LANGUAGES:
        return str(preferred)
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return FALLBACK


# -- formatting in the client's language -----------------------------------------------------
class Formats:
    """Numbers, shares and days as the client's locale writes them (Babel)."""

    def __init__(self, language: str) -> None:
        self.language = language

    def number(self, value: float | None) -> str:
        return format_decimal(value or 0, format="#,##0.##", locale=self.language)

    def percent(self, value: float | None) -> str:
        return "–" if value is None else format_percent(value, format="#,##0.#%", locale=self.language)

    def day(self, iso: str) -> str:
        return format_date(date.fromisoformat(iso), "medium", locale=self.language)

    def moment(self, iso: str | None) -> str:
        return (
            ""
            if iso is None
            else format_datetime(datetime.fromisoformat(iso), "medium", locale=self.language)
        )

    @staticmethod
    def platform(name: str) -> str:
        try:
            return get_platform(name).display_name
        except UnknownPlatform:
            return name


def _render(template: str, language: str, status: int, **context: Any) -> HTMLResponse:
    page = TEMPLATES.get_template(template).render(
        language=language,
        t=partial(text, language),
        f=Formats(language),
        stylesheet=STYLESHEET_PATH,
        **context,
    )
    return HTMLResponse(page, status_code=status, headers=PAGE_HEADERS)


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


def problem_page(request: Request, problem: Problem) -> HTMLResponse:
    """A clear page for a link that cannot be opened, in the link's language when the link is
    known (revoked, expired), else the browser's: the catalogue's words (problem.<slug>)."""
    language = language_of(request, problem.extra.get("language"))
    key = f"problem.{_slug(problem.title)}"
    known = f"{key}.title" in catalogue(FALLBACK)
    title = text(language, f"{key}.title") if known else problem.title
    detail = text(language, f"{key}.detail") if known else (problem.detail or problem.title)
    return _render("problem.html", language, problem.status, title=title, detail=detail)


def report_page(view: dict[str, Any]) -> HTMLResponse:
    language = view["language"] if view["language"] in LANGUAGES else FALLBACK
    charts = {
        p["platform"]: bar_chart([(pt["bucket_start"], pt["value"]) for pt in p["trend"]["points"]])
        for p in view["platforms"]
    }
    formats = Formats(language)
    title = text(
        language,
        "report.title",
        start=formats.day(view["range"]["from"]),
        end=formats.day(view["range"]["to"]),
    )
    chosen = ", ".join(Formats.platform(p) for p in view["chosen_platforms"] or [])
    return _render("report.html", language, 200, title=title, view=view, charts=charts, chosen=chosen)


async def answer(request: Request, work: Awaitable[dict[str, Any]]) -> Any:
    """The report as a page or JSON; a refusal as a page or problem+json, per Accept."""
    html = wants_html(request)
    try:
        try:
            view = await work
        except DomainError as error:
            raise problem_of(error) from error
    except Problem as problem:
        if not html:
            raise
        return problem_page(request, problem)
    if html:
        return report_page(view)
    return JSONResponse(view, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
