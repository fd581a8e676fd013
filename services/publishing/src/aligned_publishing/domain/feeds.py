"""RSS/Atom auto-posting: the pure rules a feed subscription follows (issue 24).

What a new entry's post says (the template), which entries are the same entry (the dedupe key a
unique index holds), and when a feed is polled again (the interval while it works, an
exponential backoff while it is broken, so a dead feed is not hammered). No I/O here: the poll
is service_layer/feed_polling.py, the fetcher and parser are in adapters/.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from aligned_publishing.domain.retry import backoff_ceiling

# The placeholders a template may use; anything else in braces is a mistake the brand should hear
# about when it subscribes, not find in a published post.
PLACEHOLDERS = frozenset({"title", "link", "summary"})
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class FeedEntry:
    """One entry as the fetcher read it (feedparser's fields, already plain strings)."""

    guid: str | None
    link: str | None
    title: str = ""
    summary: str = ""


class TemplateError(ValueError):
    """The template cannot render an entry; the message names what is wrong."""


def template_problem(template: str) -> str | None:
    """Why a template cannot be used, or None: checked at subscription time (a 422 naming the field)."""
    if not template.strip():
        return "the template is empty"
    unknown = sorted({name for name in _PLACEHOLDER.findall(template) if name not in PLACEHOLDERS})
    if unknown:
        allowed = ", ".join("{" + name + "}" for name in sorted(PLACEHOLDERS))
        return f"unknown placeholder {', '.join('{' + u + '}' for u in unknown)}; use {allowed}"
    return None


def plain_text(html: str) -> str:
    """Feed summaries are often HTML; a post is plain text, so tags go and whitespace collapses."""
    return _SPACE.sub(" ", _TAG.sub(" ", html)).strip()


def render(template: str, entry: FeedEntry) -> str:
    """The post text for an entry. Substitution is one pass over the template, so braces inside
    an entry's own title ("{link}") stay literal and cannot inject another field."""
    problem = template_problem(template)
    if problem:
        raise TemplateError(problem)
    values = {
        "title": plain_text(entry.title),
        "link": entry.link or "",
        "summary": plain_text(entry.summary),
    }
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template).strip()


def entry_key(entry: FeedEntry) -> str | None:
    """What makes two entries the same: the guid when the feed gives one, else the link.

    Hashed to a fixed width for the unique index (feed_id, entry_key); the prefix keeps a guid
    from colliding with a link that happens to be spelled the same. None: the entry cannot be
    told apart from others, so it is recorded as skipped rather than posted on every poll.
    """
    guid = (entry.guid or "").strip()
    link = (entry.link or "").strip()
    if guid:
        basis = f"guid:{guid}"
    elif link:
        basis = f"link:{link}"
    else:
        return None
    return hashlib.sha256(basis.encode()).hexdigest()


def next_poll_at(
    now: datetime,
    *,
    interval_s: float,
    consecutive_failures: int,
    backoff_base_s: float,
    backoff_cap_s: float,
) -> datetime:
    """When the feed is due again: interval after a good poll; after the n-th failure in a row,
    the longer of the interval and an exponential backoff (capped), so a broken feed waits longer
    each time and one good poll (failures back to 0) restores the normal interval."""
    if consecutive_failures <= 0:
        return now + timedelta(seconds=interval_s)
    wait = max(interval_s, backoff_ceiling(consecutive_failures, backoff_base_s, backoff_cap_s))
    return now + timedelta(seconds=wait)


class FeedMode(StrEnum):
    """What an entry becomes: a draft to edit and submit, or a post submitted at once for a time
    after the poll (through approval where the brand's policy says so)."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"


def untold_key(entry: FeedEntry) -> str:
    """The record key of an entry with neither guid nor link: it is skipped (entry_key is None),
    and keyed by what it says so the skip is recorded once, not on every poll."""
    return hashlib.sha256(f"untold:{entry.title}\n{entry.summary}".encode()).hexdigest()
