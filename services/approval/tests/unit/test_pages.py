"""The client pages as a browser gets them: templates, the client's language and clock, escaping."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.requests import Request

from aligned_approval.domain import tokens
from aligned_approval.domain.decisions import Decision
from aligned_approval.domain.errors import Invalid
from aligned_approval.domain.preview import per_platform
from aligned_approval.entrypoints import pages
from aligned_approval.service_layer import links
from aligned_common.problems import Problem

pytestmark = pytest.mark.unit
SECRET = b"s" * 32


def browser(path: str = "/review/tok", language: str = "") -> Request:
    headers = [(b"accept", b"text/html")] + ([(b"accept-language", language.encode())] if language else [])
    return Request({"type": "http", "method": "GET", "path": path, "headers": headers, "query_string": b""})


def a_view(**changes: Any) -> dict[str, Any]:
    view = {
        "approval_id": uuid.uuid4(),
        "job_id": uuid.uuid4(),
        "round": 2,
        "status": "pending",
        "scheduled_at": datetime(2026, 12, 4, 8, 0, tzinfo=UTC),
        "expires_at": datetime(2026, 12, 10, 8, 0, tzinfo=UTC),
        "content": "Spring <launch>",
        "platforms": per_platform(
            "Spring <launch>",
            [
                {"platform": "sandbox", "text": "Sandbox's own <b>text</b>"},
                {"platform": "mastodon", "warnings": [{"message": "media item 1 has no alt text"}]},
            ],
        ),
        "earlier_rounds": [{"round": 1, "status": "changes_requested", "comment": "Brighter photo"}],
        "language": None,
        "time_zone": "Europe/Berlin",
    }
    return {**view, **changes}


def page_of(builder: Any, result: dict[str, Any], request: Request | None = None) -> str:
    template, language, context = builder(request or browser(), result)
    return pages._render(template, language, 200, **context).body.decode()


def test_the_review_page_shows_every_target_its_warnings_earlier_comments_and_the_local_time():
    html = page_of(pages.review, a_view())
    assert '<html lang="en">' in html and "Review a post (round 2)" in html
    assert "Sandbox&#39;s own &lt;b&gt;text&lt;/b&gt;" in html and "Spring &lt;launch&gt;" in html  # escaped
    assert "media item 1 has no alt text" in html and "Brighter photo" in html
    assert "9:00" in html and "(Europe/Berlin)" in html  # 08:00 UTC on the client's clock
    # Two forms: approve/reject with an optional comment, and changes with a required one.
    assert html.count('method="post"') == 2 and "required" in html
    assert 'name="decision" value="request_changes"' in html
    assert "<script" not in html and pages.STYLESHEET_PATH in html


def test_the_review_page_speaks_the_client_s_language_before_the_browser_s():
    german = page_of(pages.review, a_view(language="de"), browser(language="en-GB"))
    assert '<html lang="de">' in german and "Beitrag prüfen (Runde 2)" in german and "Freigeben" in german
    by_browser = page_of(pages.review, a_view(), browser(language="de-DE,de;q=0.9"))
    assert "Änderungen anfordern" in by_browser


def test_a_decided_round_shows_no_form():
    html = page_of(pages.review, a_view(status="approved", scheduled_at=None))
    assert 'method="post"' not in html and "approved" in html and "No publishing time" in html


def test_the_unsubscribe_page_lists_every_kind_and_which_are_stopped():
    state = {
        "email": "carol@client.example",
        "kind": "reminder",
        "subscribed": True,
        "unsubscribed_types": ["digest"],
        "scopes": ["kind", "all"],
        "default_scope": "kind",
        "language": None,
    }
    html = page_of(pages.unsubscribe_preview, state)
    assert "Stop approval reminders" in html and "Stop all e-mails" in html
    assert len(re.findall(r"<li[ >]", html)) == 7 and html.count("stopped") == 1  # digests only


def test_an_unusable_link_is_a_clear_page_in_the_browser_s_language():
    problem = Problem(410, "Review link expired", detail="this link has expired; ask for a new one")
    page = pages.problem_page(browser(language="de"), problem)
    assert page.status_code == 410 and "Prüf-Link abgelaufen" in page.body.decode()
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


async def test_asking_for_changes_without_a_comment_is_refused_before_anything_changes():
    class NoStore:
        def __call__(self, **_: Any) -> Any:
            raise AssertionError("nothing may be read or written")

    for comment in (None, "", "   "):
        with pytest.raises(Invalid) as refused:
            await links.decide(
                NoStore(),  # type: ignore[arg-type]
                tokens.sign(links.PURPOSE, {"l": str(uuid.uuid4()), "b": str(uuid.uuid4())}, SECRET),
                Decision.REQUEST_CHANGES,
                comment,
                secret=SECRET,
                base_url="http://gateway",
                now=datetime.now(UTC),
            )
        assert refused.value.extra["errors"] == [
            {"field": "comment", "message": "required when you request changes"}
        ]


def test_the_review_page_lists_a_targets_per_platform_fields():
    platforms = per_platform("Tour", [{"platform": "sandbox", "platform_options": {"visibility": "private"}}])
    html = page_of(pages.review, a_view(platforms=platforms))
    assert "Settings on this platform" in html
    assert "<dt>visibility</dt><dd>private</dd>" in html
