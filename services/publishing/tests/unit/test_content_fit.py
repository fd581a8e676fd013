import uuid

import pytest

from aligned_common.platforms import MediaInfo
from aligned_publishing.domain.content_fit import TargetDraft, check_job_fits

pytestmark = pytest.mark.unit
URL = "https://example.com/" + "a" * 200


def _target(platform, **kwargs):
    return TargetDraft(platform, uuid.uuid4(), **kwargs)


def test_x_counts_a_url_as_fixed_length_so_a_long_link_fits():
    assert check_job_fits(f"New drop {URL}", [], [_target("x")], {}) == []


def test_each_target_is_checked_with_its_own_variant_text():
    errors = check_job_fits("short", [], [_target("x"), _target("mastodon", text="y" * 501)], {})
    assert [(e.field, e.platform, e.limit) for e in errors] == [("targets[1].text", "mastodon", 500)]


def test_a_video_too_long_for_the_platform_names_the_media_item():
    video = uuid.uuid4()
    media = {video: MediaInfo(mime_type="video/mp4", size_bytes=10_000, duration_s=200)}
    (error,) = check_job_fits("clip", [video], [_target("x")], media)
    assert error.field == "targets[0].media[0].duration_s" and error.limit == 140


def test_media_of_another_brand_or_unknown_is_refused():
    (error,) = check_job_fits("hi", [uuid.uuid4()], [_target("sandbox")], {})
    assert error.field == "media_ids[0]"
