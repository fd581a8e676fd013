"""RSS and Atom bodies to FeedEntry values, through feedparser (ADR 0028).

feedparser reads every RSS dialect and Atom and is lenient with the malformed XML real feeds
serve; what it cannot place as a feed at all (an HTML page, JSON, garbage) has no version and no
entries, and that is reported as the feed's problem so the subscription shows why it is broken.
Bytes in, values out: the fetcher (SSRF guard, size and time bounds) stays separate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import feedparser

from aligned_publishing.domain.feeds import FeedEntry


@dataclass(frozen=True)
class ParsedFeed:
    entries: list[FeedEntry] = field(default_factory=list)
    problem: str | None = None  # why the body is not a feed, shown on the subscription


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def parse_feed(body: bytes) -> ParsedFeed:
    parsed = feedparser.parse(body)
    if not parsed.get("version") and not parsed.get("entries"):
        reason = parsed.get("bozo_exception")
        return ParsedFeed(
            problem=f"not an RSS or Atom feed ({reason})" if reason else "not an RSS or Atom feed"
        )
    entries = [
        FeedEntry(
            # feedparser maps RSS <guid> and Atom <id> both to "id".
            guid=_text(item.get("id")) or None,
            link=_text(item.get("link")) or None,
            title=_text(item.get("title")),
            summary=_text(item.get("summary")),
        )
        for item in parsed.get("entries", [])
    ]
    return ParsedFeed(entries=entries)
