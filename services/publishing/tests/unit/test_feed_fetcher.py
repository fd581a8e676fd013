"""The feed fetcher against a local HTTP server standing for the outside world."""

import asyncio

import pytest

from aligned_common.ssrf import TargetPolicy
from aligned_publishing.adapters.feed_fetcher import fetch_feed
from aligned_publishing.adapters.feed_parser import parse_feed
from aligned_testing.service import serving_asgi

pytestmark = pytest.mark.unit

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>
<item><title>One</title><link>https://blog.example/1</link><guid>1</guid></item></channel></rss>"""
ATOM = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>N</title><id>urn:n</id>
<entry><title>A</title><id>urn:n:1</id><link href="https://n.example/1"/></entry></feed>"""
LOCAL = TargetPolicy(allow_loopback=True, allow_http=True)


async def _feeds(scope, receive, send):
    if scope["type"] != "http":
        return
    await receive()
    path = scope["path"]
    headers = dict(scope["headers"])
    status, extra, body = 200, [], b""
    if path == "/rss":
        if headers.get(b"if-none-match") == b'"v1"':
            status = 304
        else:
            extra, body = [(b"etag", b'"v1"'), (b"content-type", b"application/rss+xml")], RSS
    elif path == "/atom":
        body = ATOM
    elif path == "/moved":
        status, extra = 301, [(b"location", b"/rss")]
    elif path == "/loop":
        status, extra = 302, [(b"location", b"/loop")]
    elif path == "/to-internal":
        status, extra = 302, [(b"location", b"http://10.0.0.1/feed.xml")]
    elif path == "/big":
        body = b"x" * 5000
    elif path == "/slow":
        await asyncio.sleep(2)
        body = RSS
    else:
        status, body = 500, b"down"
    await send({"type": "http.response.start", "status": status, "headers": extra})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def base():
    async with serving_asgi(_feeds) as port:
        yield f"http://127.0.0.1:{port}"


async def _get(url, etag=None, *, policy=LOCAL, max_bytes=100_000, timeout_s=5.0):
    return await fetch_feed(
        url, policy=policy, etag=etag, last_modified=None, max_bytes=max_bytes, timeout_s=timeout_s
    )


async def test_a_feed_is_fetched_with_its_etag_and_a_matching_etag_gets_304(base):
    first = await _get(f"{base}/rss")
    assert first.body == RSS and first.etag == '"v1"' and not first.failed
    again = await _get(f"{base}/rss", etag=first.etag)
    assert again.not_modified and again.body is None and again.etag == '"v1"'


async def test_atom_is_fetched_and_parsed(base):
    result = await _get(f"{base}/atom")
    assert [e.guid for e in parse_feed(result.body).entries] == ["urn:n:1"]


async def test_a_redirect_is_followed_through_the_guard(base):
    assert (await _get(f"{base}/moved")).body == RSS
    assert (await _get(f"{base}/loop")).problem == "more than 3 redirects"


async def test_an_http_error_is_the_feeds_problem(base):
    assert (await _get(f"{base}/gone")).problem == "the feed answered HTTP 500"


async def test_body_size_and_time_are_bounded(base):
    assert (await _get(f"{base}/big", max_bytes=1000)).problem == "the feed is larger than 1000 bytes"
    assert (await _get(f"{base}/slow", timeout_s=0.3)).problem == "timed out after 0.3 s"


async def test_an_internal_address_is_refused_before_any_connection(base):
    result = await _get(f"{base}/rss", policy=TargetPolicy(allow_http=True))
    assert result.problem is not None and "loopback address; it cannot be polled as a feed" in result.problem


async def test_a_redirect_to_an_internal_address_is_refused(base):
    result = await _get(f"{base}/to-internal")
    assert result.problem is not None and "10.0.0.1" in result.problem and "private address" in result.problem
