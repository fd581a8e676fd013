"""The pages people reach from an e-mail link (review, unsubscribe), without an account.

A browser (Accept: text/html) gets a small server-rendered page; any other client gets the
same answer as JSON, and an error as problem+json. A GET only shows what a POST would do:
mail scanners fetch every link in a mail, so nothing may change on a GET.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape
from typing import Any
from urllib.parse import parse_qs

import orjson
from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse

from aligned_approval.domain.errors import DomainError
from aligned_approval.messages import text
from aligned_common.problems import Problem, problem_of

# The token in the URL is the credential: never sent on as a Referer, never cached, and the
# decision form is never framed by another site (clickjacking) nor posted anywhere else.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
}

DECISION_LABELS = {"approve": "Approve", "request_changes": "Request changes", "reject": "Reject"}


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


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


async def answer(
    request: Request,
    work: Awaitable[dict[str, Any]],
    render: Callable[[dict[str, Any]], str],
    status: int = 200,
) -> Any:
    """The result as a page or JSON; a Problem as a page or problem+json, per Accept."""
    html = wants_html(request)
    try:
        try:
            result = await work
        except DomainError as error:
            raise problem_of(error) from error
    except Problem as problem:
        if not html:
            raise
        return HTMLResponse(
            _layout(problem.title, f"<p>{escape(problem.detail or problem.title)}</p>"),
            status_code=problem.status,
            headers=PAGE_HEADERS,
        )
    if html:
        return HTMLResponse(_layout(*_split(render(result))), status_code=status, headers=PAGE_HEADERS)
    return JSONResponse(jsonable_encoder(result), status_code=status, headers={"Cache-Control": "no-store"})


def _split(rendered: str) -> tuple[str, str]:
    title, _, body = rendered.partition("\n")
    return title, body


def _layout(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}
pre{{white-space:pre-wrap;background:#f5f5f5;padding:1rem;border-radius:.5rem}}button{{margin:.25rem .5rem .25rem 0}}</style>
</head><body><h1>{escape(title)}</h1>
{body}
</body></html>"""


# -- review links ----------------------------------------------------------------------------
def review(view: dict[str, Any]) -> str:
    platforms = "".join(
        f"<h3>{escape(str(p.get('display_name') or p['platform']))}</h3><pre>{escape(str(p['text']))}</pre>"
        + "".join(f"<p><strong>{escape(str(problem))}</strong></p>" for problem in p.get("problems") or [])
        + "".join(
            f'<p class="warning">Warning: {escape(str(warning))}</p>' for warning in p.get("warnings") or []
        )
        for p in view["platforms"]
    )
    when = f"<p>Scheduled for {escape(str(view['scheduled_at']))}.</p>" if view.get("scheduled_at") else ""
    buttons = "".join(
        f'<button type="submit" name="decision" value="{d}">{label}</button>'
        for d, label in DECISION_LABELS.items()
    )
    form = (
        (
            '<form method="post"><p><label>Comment (optional)<br>'
            '<textarea name="comment" rows="3" cols="50" maxlength="5000"></textarea></label></p>'
            f"<p>{buttons}</p></form>"
        )
        if view["status"] == "pending"
        else f"<p>This round is {escape(view['status'])}.</p>"
    )
    return (
        f"Review a post (round {view['round']})\n{when}{platforms}{form}"
        f"<p><small>This link works once and expires {escape(str(view['expires_at']))}.</small></p>"
    )


def review_decided(decided: dict[str, Any]) -> str:
    word = str(decided["status"]).replace("_", " ")
    comment = (
        f"<p>Your comment: {escape(decided['decision_comment'])}</p>"
        if decided.get("decision_comment")
        else ""
    )
    return f"Thank you\n<p>Round {decided['round']} is now <strong>{escape(word)}</strong>.</p>{comment}"


# -- unsubscribe links -----------------------------------------------------------------------
def _what(kind: str | None) -> str:
    return text("en", f"kind.{kind}" if kind else "kind.all")


def unsubscribe_preview(state: dict[str, Any]) -> str:
    email = escape(state["email"])
    if not state["subscribed"]:
        return f"You are unsubscribed\n<p>{email} gets no e-mails from us any more.</p>"
    forms = "".join(
        f'<form method="post"><input type="hidden" name="scope" value="{scope}">'
        f'<button type="submit">Stop {escape(_what(state["kind"] if scope == "kind" else None))}</button></form>'
        for scope in state["scopes"]
    )
    already = (
        f"<p>Already stopped: {escape(', '.join(_what(k) for k in state['unsubscribed_types']))}.</p>"
        if state["unsubscribed_types"]
        else ""
    )
    return f"Unsubscribe {email}\n<p>Choose what to stop; nothing changes until you press a button.</p>{already}{forms}"


def unsubscribed(state: dict[str, Any]) -> str:
    email = escape(state["email"])
    if state["scope"] == "all":
        return f"Unsubscribed\n<p>{email} will get no more e-mails from us.</p>"
    return f"Unsubscribed\n<p>{email} will get no more {escape(_what(state['kind']))}.</p>"
