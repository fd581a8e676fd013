"""The kit's versions without I/O: which If-Match a change needs, and what a diff shows."""

import uuid
from datetime import UTC, datetime

import pytest

from aligned_brandkit.domain.errors import StaleVersion, VersionRequired
from aligned_brandkit.domain.model import KitVersion, check_precondition, diff, parse_if_match
from aligned_common.events.brandkit import BrandKit

pytestmark = pytest.mark.unit

V2 = KitVersion(uuid.uuid4(), 2, BrandKit(), "ann", datetime(2026, 1, 1, tzinfo=UTC))


def test_the_first_version_needs_no_if_match_and_refuses_one():
    check_precondition(None, None)
    with pytest.raises(StaleVersion):
        check_precondition(None, 1)


def test_a_later_change_must_name_the_current_version():
    with pytest.raises(VersionRequired):
        check_precondition(V2, None)
    with pytest.raises(StaleVersion):
        check_precondition(V2, parse_if_match('"1"'))
    check_precondition(V2, parse_if_match('W/"2"'))
    check_precondition(V2, parse_if_match("*"))
    assert parse_if_match("garbage") == -1 and parse_if_match('"99999999999999"') == -1


def test_a_diff_names_nested_fields_and_compares_lists_whole():
    before = {"voice": "a", "platforms": {"x": {"notes": "n"}}, "banned_terms": [1]}
    after = {"voice": "a", "platforms": {"x": {"notes": "m"}, "y": {}}, "banned_terms": [1, 2]}
    assert diff(before, after) == [
        {"field": "banned_terms", "before": [1], "after": [1, 2]},
        {"field": "platforms.x.notes", "before": "n", "after": "m"},
        {"field": "platforms.y", "before": None, "after": {}},
    ]
