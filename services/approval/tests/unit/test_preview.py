import pytest

from aligned_approval.domain.preview import per_platform

pytestmark = pytest.mark.unit


def test_a_targets_warnings_from_publishing_are_shown_with_its_preview():
    warning = {
        "code": "missing_alt_text",
        "field": "media[0].alt_text",
        "message": "media item 1 has no alt text",
    }
    previews = per_platform(
        "Hello",
        [
            {"target_id": "t1", "platform": "sandbox", "warnings": [warning]},
            {"target_id": "t2", "platform": "mastodon"},
        ],
    )
    assert [p["warnings"] for p in previews] == [["media item 1 has no alt text"], []]
    assert previews[0]["fits"] is True, "a warning does not make the post misfit"
