"""Feeds the outside world publishes, for RSS/Atom auto-posting's tests: a named feed at
GET /feeds/{name} (RSS 2.0 or Atom), its entries added by the control API, its answer controllable
(a feed, an HTTP error, something that is not a feed, or a body larger than a bound).

The feed honours conditional requests as a well-behaved server does: its ETag is a hash of the
body, and If-None-Match with it is answered 304 with no body. `touch` changes the body (its
build date) but not the entries, so a test sees a 200 carrying entries already seen. Every
request is counted, by answer, so a test can tell that a 304 was served.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated, Literal
from xml.sax.saxutils import escape

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from aligned_sandbox.errors import SandboxError

Name = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Answer = Literal["feed", "error", "garbage", "huge"]


@dataclass
class Item:
    guid: str | None
    link: str | None
    title: str
    summary: str
    published: datetime


@dataclass
class Feed:
    name: str
    format: Literal["rss", "atom"] = "rss"
    items: list[Item] = field(default_factory=list)
    built: int = 0  # bumped by touch: a new body (and ETag), the same entries
    answer: Answer = "feed"
    status: int = 500  # the status of answer="error"
    requests: dict[str, int] = field(default_factory=dict)  # "200", "304", "error"...

    def body(self) -> bytes:
        return (_atom(self) if self.format == "atom" else _rss(self)).encode()

    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body()).hexdigest()[:32] + '"'


def _rss(feed: Feed) -> str:
    items = "".join(
        "<item>"
        + (f"<guid isPermaLink='false'>{escape(i.guid)}</guid>" if i.guid else "")
        + (f"<link>{escape(i.link)}</link>" if i.link else "")
        + f"<title>{escape(i.title)}</title><description>{escape(i.summary)}</description>"
        + f"<pubDate>{format_datetime(i.published)}</pubDate></item>"
        for i in reversed(feed.items)  # newest first, as feeds list them
    )
    return (
        "<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel>"
        f"<title>{escape(feed.name)}</title><link>https://sandbox.example/{escape(feed.name)}</link>"
        f"<description>build {feed.built}</description>{items}</channel></rss>"
    )


def _atom(feed: Feed) -> str:
    entries = "".join(
        "<entry>"
        + (f"<id>{escape(i.guid)}</id>" if i.guid else "")
        + (f"<link href='{escape(i.link)}'/>" if i.link else "")
        + f"<title>{escape(i.title)}</title><summary>{escape(i.summary)}</summary>"
        + f"<updated>{i.published.isoformat()}</updated></entry>"
        for i in reversed(feed.items)
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        f"<title>{escape(feed.name)}</title><id>urn:sandbox:{escape(feed.name)}</id>"
        f"<subtitle>build {feed.built}</subtitle><updated>2026-01-01T00:00:00Z</updated>{entries}</feed>"
    )


class FeedStore:
    def __init__(self) -> None:
        self.feeds: dict[str, Feed] = {}

    def named(self, name: str) -> Feed:
        return self.feeds.setdefault(name, Feed(name))


# -- the outside world's feed ------------------------------------------------------------------
public = APIRouter(tags=["feeds"])
control = APIRouter(prefix="/_control/feeds", tags=["control"])


def _store(request: Request) -> FeedStore:
    # Not routes.deps.get_sandbox: the sandbox's state imports this module.
    return request.app.state.sandbox.feeds


Store = Annotated[FeedStore, Depends(_store)]


@public.get("/feeds/{name}")
async def serve_feed(
    name: Name, store: Store, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    feed = store.feeds.get(name)
    if feed is None:
        raise SandboxError(404, "not_found", f"no feed {name}")
    answer = feed.answer
    if answer == "error":
        feed.requests[str(feed.status)] = feed.requests.get(str(feed.status), 0) + 1
        return Response(b"feed unavailable", status_code=feed.status, media_type="text/plain")
    if answer == "garbage":
        feed.requests["garbage"] = feed.requests.get("garbage", 0) + 1
        return Response(b"<html><body>Moved to a new CMS!</body></html>", media_type="text/html")
    if answer == "huge":
        feed.requests["huge"] = feed.requests.get("huge", 0) + 1
        return Response(feed.body() + b" " * (8 * 1024 * 1024), media_type="application/rss+xml")
    etag = feed.etag()
    if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
        feed.requests["304"] = feed.requests.get("304", 0) + 1
        return Response(status_code=304, headers={"ETag": etag})
    feed.requests["200"] = feed.requests.get("200", 0) + 1
    media = "application/atom+xml" if feed.format == "atom" else "application/rss+xml"
    return Response(feed.body(), media_type=media, headers={"ETag": etag})


# -- control -------------------------------------------------------------------------------
class NewFeed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["rss", "atom"] = "rss"


class NewEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    guid: str | None = Field(default=None, max_length=500)
    link: str | None = Field(default=None, max_length=2000)
    title: str = Field(default="", max_length=2000)
    summary: str = Field(default="", max_length=100_000)


class FeedAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: Answer
    status: int = Field(default=500, ge=400, le=599, description="answer=error: the status")


def _feed_state(feed: Feed) -> dict[str, object]:
    return {
        "name": feed.name,
        "format": feed.format,
        "entries": len(feed.items),
        "answer": feed.answer,
        "etag": feed.etag(),
        "requests": dict(feed.requests),
        "path": f"/feeds/{feed.name}",
    }


@control.put("/{name}")
async def make_feed(name: Name, body: NewFeed, store: Store) -> dict[str, object]:
    """A feed (empty; the same name again keeps its entries and changes its format)."""
    feed = store.named(name)
    feed.format = body.format
    return _feed_state(feed)


@control.get("/{name}")
async def feed_state(name: Name, store: Store) -> dict[str, object]:
    if name not in store.feeds:
        raise SandboxError(404, "not_found", f"no feed {name}")
    return _feed_state(store.feeds[name])


@control.post("/{name}/entries", status_code=201)
async def publish_entry(name: Name, body: NewEntry, store: Store) -> dict[str, object]:
    feed = store.named(name)
    feed.items.append(Item(body.guid, body.link, body.title, body.summary, datetime.now(UTC)))
    return _feed_state(feed)


@control.post("/{name}/touch")
async def touch_feed(name: Name, store: Store) -> dict[str, object]:
    """A new body and ETag with the same entries (a rebuilt feed)."""
    feed = store.named(name)
    feed.built += 1
    return _feed_state(feed)


@control.put("/{name}/answer")
async def set_answer(name: Name, body: FeedAnswer, store: Store) -> dict[str, object]:
    feed = store.named(name)
    feed.answer, feed.status = body.answer, body.status
    return _feed_state(feed)
