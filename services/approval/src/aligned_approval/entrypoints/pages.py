"""The pages people reach from an e-mail link (review, unsubscribe), without an account.

A browser (Accept: text/html) gets a small server-rendered page (Jinja2 templates in
templates/, one stylesheet in static/, ADR 0024); any other client gets the same answer as
JSON, and an error as problem+json. A GET only shows what a POST would do: mail scanners fetch
every link in a mail, so nothing may change on a GET. Every word is from the message
catalogues the mails use (messages.py), in the client's language.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import orjson
from babel.dates import format_date, format_time
from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from aligned_approval.domain.errors import DomainError
from aligned_approval.domain.escalation import zone
from aligned_approval.domain.preferences import LANGUAGES, MailKind
from aligned_approval.messages import FALLBACK, catalogue, text
from aligned_common.problems import Problem, problem_of

PACKAGE = Path(__file__).resolve().parent.parent
# Served by us (GET below), so the CSP needs no 'unsafe-inline' and the pages no other host.
STYLESHEET_PATH = "/review/assets/pages.css"
STYLESHEET = (PACKAGE / "static" / "pages.css").read_bytes()

# The token in the URL is the credential: never sent on as a Referer, never cached, and the
# decision form is never framed by another site (clickjacking) nor posted anywhere else. No
# script at all; images only from us (signed media URLs through the gateway).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
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


async def form_or_json(request: Request) -> dict[str, Any]:
    """A POST body as a dict: JSON, or an HTML form (application/x-www-form-urlencoded);
    anything else (an RFC 8058 one-click POST may be multipart) reads as no fields."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        return {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    if content_type.endswith("json") or (not content_type and raw.strip().startswith(b"{")):
        try:
            body = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            raise Problem(400, "Malformed JSON", detail="the request body is not JSON") from None
        if not isinstance(body, dict):
            raise Problem(
                422,
                "Invalid request",
                detail="the body must be a JSON object",
                errors=[{"field": "body", "message": "expected an object"}],
            )
        return body
    return {}


# -- languages -------------------------------------------------------------------------------
def language_of(request: Request, preferred: str | None = None) -> str:
    """The client's language from their settings; else the browser's first one we have."""
    if preferred is not None and preferred in LANGUAGES:
        return preferred
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return FALLBACK


def local_time(moment: datetime, time_zone: str | None, language: str) -> str:
    """e.g. "Friday, December 4, 2026, 9:00 AM (Europe/Berlin)": the client's own clock."""
    tz = zone(time_zone)
    local = moment.astimezone(tz)
    return f"{format_date(local, 'full', locale=language)}, {format_time(local, 'short', locale=language)} ({tz.key})"


def _render(template: str, language: str, status: int, **context: Any) -> HTMLResponse:
    page = TEMPLATES.get_template(template).render(
        language=language, t=partial(text, language), stylesheet=STYLESHEET_PATH, **context
    )
    return HTMLResponse(page, status_code=status, headers=PAGE_HEADERS)


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


def problem_page(request: Request, problem: Problem) -> HTMLResponse:
    """A clear page for an unusable link or a refused form, in the browser's language: the
    catalogue's words for the problems a client meets (problem.<slug of the title>), else the
    problem's own."""
    language = language_of(request)
    key = f"problem.{_slug(problem.title)}"
    known = f"{key}.title" in catalogue(FALLBACK)
    title = text(language, f"{key}.title") if known else problem.title
    detail = text(language, f"{key}.detail") if known else (problem.detail or problem.title)
    back = str(request.url.path) if problem.status == 422 else None
    return _render("problem.html", language, problem.status, title=title, detail=detail, back=back)


Page = tuple[str, str, dict[str, Any]]  # template, language, the template's context


async def answer(
    request: Request,
    work: Awaitable[dict[str, Any]],
    page: Callable[[Request, dict[str, Any]], Page],
    status: int = 200,
) -> Any:
    """The result as a page (one of the context builders below) or JSON; a Problem as a page
    or problem+json, per Accept."""
    html = wants_html(request)
    try:
        try:
            result = await work
        except DomainError as error:
            raise problem_of(error) from error
    except Problem as problem:
        if not html:
            raise
        return problem_page(request, problem)
    if html:
        template, language, context = page(request, result)
        return _render(template, language, status, **context)
    return JSONResponse(jsonable_encoder(result), status_code=status, headers={"Cache-Control": "no-store"})


# -- what each page shows --------------------------------------------------------------------


def review(request: Request, view: dict[str, Any]) -> Page:
    language = language_of(request, view.get("language"))
    when = view.get("scheduled_at")
    return (
        "review.html",
        language,
        {
            "title": text(language, "review.title", round=view["round"]),
            "view": view,
            "scheduled": local_time(when, view.get("time_zone"), language) if when else None,
            "expires": local_time(view["expires_at"], view.get("time_zone"), language),
        },
    )


def review_decided(request: Request, decided: dict[str, Any]) -> Page:
    language = language_of(request, decided.get("language"))
    return "decided.html", language, {"title": text(language, "decided.title"), "decided": decided}


def unsubscribe_preview(request: Request, state: dict[str, Any]) -> Page:
    language = language_of(request, state.get("language"))
    key = "unsubscribe.title" if state["subscribed"] else "unsubscribe.none.title"
    return (
        "unsubscribe.html",
        language,
        {"title": text(language, key, email=state["email"]), "state": state, "kinds": list(MailKind)},
    )


def unsubscribed(request: Request, state: dict[str, Any]) -> Page:
    language = language_of(request, state.get("language"))
    return "unsubscribed.html", language, {"title": text(language, "unsubscribed.title"), "state": state}
