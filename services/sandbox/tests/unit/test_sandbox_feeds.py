"""The sandbox's feeds, the outside world of RSS/Atom auto-posting's tests: entries published
through the control API appear in the feed (RSS or Atom, newest first), a conditional request
with the current ETag is a 304, a rebuild changes the ETag but not the entries, and the feed can
be made to answer an HTTP error, an HTML page or an oversized body."""

import pytest

from aligned_publishing.adapters.feed_parser import parse_feed

pytestmark = pytest.mark.unit


async def test_entries_appear_newest_first_and_an_unchanged_feed_is_a_304(client):
    await client.put("/_control/feeds/news", json={"format": "rss"})
    for n in (1, 2):
        await client.post("/_control/feeds/news/entries", json={"guid": f"g{n}", "title": f"T{n}"})
    first = await client.get("/feeds/news")
    assert first.status_code == 200 and first.headers["content-type"].startswith("application/rss+xml")
    assert [e.title for e in parse_feed(first.content).entries] == ["T2", "T1"]
    again = await client.get("/feeds/news", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""

    await client.post("/_control/feeds/news/touch")
    rebuilt = await client.get("/feeds/news", headers={"if-none-match": first.headers["etag"]})
    assert rebuilt.status_code == 200 and rebuilt.headers["etag"] != first.headers["etag"]
    assert [e.guid for e in parse_feed(rebuilt.content).entries] == ["g2", "g1"]
    state = (await client.get("/_control/feeds/news")).json()
    assert state["requests"] == {"200": 2, "304": 1} and state["entries"] == 2


async def test_an_atom_feed_and_the_answers_a_broken_feed_gives(client):
    await client.put("/_control/feeds/blog", json={"format": "atom"})
    await client.post("/_control/feeds/blog/entries", json={"guid": "urn:1", "link": "https://b.example/1"})
    (entry,) = parse_feed((await client.get("/feeds/blog")).content).entries
    assert (entry.guid, entry.link) == ("urn:1", "https://b.example/1")

    await client.put("/_control/feeds/blog/answer", json={"answer": "error", "status": 503})
    assert (await client.get("/feeds/blog")).status_code == 503
    await client.put("/_control/feeds/blog/answer", json={"answer": "garbage"})
    assert parse_feed((await client.get("/feeds/blog")).content).problem == "not an RSS or Atom feed"
    await client.put("/_control/feeds/blog/answer", json={"answer": "huge"})
    assert len((await client.get("/feeds/blog")).content) > 8 * 1024 * 1024
    assert (await client.get("/feeds/nothing")).status_code == 404
