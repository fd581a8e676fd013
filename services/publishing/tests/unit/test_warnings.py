import uuid

import pytest

from aligned_publishing.domain.warnings import alt_text_warnings

pytestmark = pytest.mark.unit


def test_media_without_alt_text_or_with_more_than_the_platform_takes_warns_naming_the_item():
    bare, described, long = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    alt = {bare: "", described: "a dog", long: "x" * 1200}
    warnings = alt_text_warnings("x", [described, bare, long], alt)
    assert [(w.code, w.field, w.media_id) for w in warnings] == [
        ("missing_alt_text", "media[1].alt_text", bare),
        ("alt_text_too_long", "media[2].alt_text", long),
    ]
    assert "X takes 1000" in warnings[1].message
    assert [w.code for w in alt_text_warnings("mastodon", [long], alt)] == [], "Mastodon takes 1500"
    assert alt_text_warnings("nowhere", [bare], alt) == []
