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


def test_each_target_shows_its_own_text_media_and_the_first_comment_or_thread_when_it_has_them():
    photo = {"media_id": "m1", "url": "/media/signed", "alt_text": "A red bicycle"}
    previews = per_platform(
        "The job's text",
        [
            {"target_id": "t1", "platform": "sandbox", "text": "A variant", "media": [photo]},
            {"target_id": "t2", "platform": "mastodon", "media_ids": ["m1", "m2"], "thread": ["one", "two"]},
            {"target_id": "t3", "platform": "sandbox", "first_comment": "Link in the comments"},
        ],
    )
    assert [p["text"] for p in previews] == ["A variant", "The job's text", "The job's text"]
    assert previews[0]["media"] == [photo] and previews[0]["media_count"] == 1
    assert previews[1]["media"] == [] and previews[1]["media_count"] == 2
    assert previews[1]["thread"] == ["one", "two"] and previews[1]["first_comment"] is None
    assert previews[2]["first_comment"] == "Link in the comments" and previews[2]["thread"] == []


def test_a_targets_per_platform_fields_are_shown_so_the_client_approves_them_too():
    previews = per_platform(
        "Tour",
        [
            {
                "target_id": "t1",
                "platform": "youtube",
                "platform_options": {"title": "Tour", "privacy": "unlisted"},
            },
            {"target_id": "t2", "platform": "sandbox"},
        ],
    )
    assert [p["options"] for p in previews] == [[("privacy", "unlisted"), ("title", "Tour")], []]
