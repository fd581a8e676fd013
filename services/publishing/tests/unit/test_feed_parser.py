"""RSS and Atom bodies become entries; what is not a feed says so."""

import pytest

from aligned_publishing.adapters.feed_parser import parse_feed
from aligned_publishing.domain.feeds import entry_key, render

pytestmark = pytest.mark.unit

RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Blog</title><link>https://blog.example/</link>
<item><title>First &amp; best</title><link>https://blog.example/1</link><guid>post-1</guid>
<description>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&lt;/p&gt;</description></item>
<item><title>No guid</title><link>https://blog.example/2</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>News</title><id>urn:news</id>
<updated>2026-12-01T00:00:00Z</updated>
<entry><title>Atom one</title><id>urn:news:1</id><link href="https://news.example/1"/>
<updated>2026-12-01T00:00:00Z</updated><summary>Short</summary></entry>
</feed>"""


def test_rss_items_keep_their_guid_link_title_and_summary():
    feed = parse_feed(RSS)
    assert feed.problem is None
    assert [(e.guid, e.link, e.title) for e in feed.entries] == [
        ("post-1", "https://blog.example/1", "First & best"),
        (None, "https://blog.example/2", "No guid"),
    ]
    assert (
        render("{title} {summary} {link}", feed.entries[0])
        == "First & best Hello world https://blog.example/1"
    )


def test_atom_ids_are_guids():
    feed = parse_feed(ATOM)
    assert feed.problem is None
    [entry] = feed.entries
    assert (entry.guid, entry.link, entry.summary) == ("urn:news:1", "https://news.example/1", "Short")


def test_the_same_body_twice_gives_the_same_keys():
    assert [entry_key(e) for e in parse_feed(RSS).entries] == [entry_key(e) for e in parse_feed(RSS).entries]


@pytest.mark.parametrize("body", [b"<html><body>Not here</body></html>", b'{"items": []}', b""])
def test_a_body_that_is_not_a_feed_is_a_problem_not_an_empty_feed(body):
    feed = parse_feed(body)
    assert feed.entries == []
    assert feed.problem is not None and "not an RSS or Atom feed" in feed.problem
