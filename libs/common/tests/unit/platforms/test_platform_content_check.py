import pytest

from aligned_common.platforms import MediaInfo, UnknownPlatform, ViolationCode, check_content, get_platform

pytestmark = pytest.mark.unit

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 25 bytes in UTF-8
MIB = 1024 * 1024


def image(size_bytes: int = 1000, mime_type: str = "image/jpeg") -> MediaInfo:
    return MediaInfo(mime_type=mime_type, size_bytes=size_bytes)


def video(seconds: float | None = 10, size_bytes: int = 1000) -> MediaInfo:
    return MediaInfo(mime_type="video/mp4", size_bytes=size_bytes, duration_s=seconds)


def codes(violations) -> list[ViolationCode]:
    return [violation.code for violation in violations]


@pytest.mark.parametrize(
    ("platform", "limit"), [("sandbox", 1000), ("mastodon", 500), ("bluesky", 300), ("x", 280)]
)
def test_text_at_the_limit_passes_and_one_more_fails(platform, limit):
    assert check_content(platform, "a" * limit) == []
    [violation] = check_content(platform, "a" * (limit + 1))
    assert (violation.platform, violation.field, violation.code) == (
        platform,
        "text",
        ViolationCode.TEXT_TOO_LONG,
    )
    assert (violation.limit, violation.actual) == (limit, limit + 1)


def test_bluesky_counts_an_emoji_family_as_one_grapheme():
    assert check_content("bluesky", "a" * 299 + FAMILY) == []
    assert codes(check_content("bluesky", "a" * 300 + FAMILY)) == [ViolationCode.TEXT_TOO_LONG]


def test_bluesky_also_caps_the_text_at_3000_utf8_bytes():
    assert check_content("bluesky", FAMILY * 120) == []  # 120 graphemes, 3000 bytes
    [violation] = check_content("bluesky", FAMILY * 121)
    assert violation.code is ViolationCode.TEXT_TOO_MANY_BYTES
    assert (violation.limit, violation.actual) == (3000, 3025)


def test_mastodon_lets_a_long_url_through_as_23_characters():
    url = "https://example.com/" + "x" * 200
    assert check_content("mastodon", "a" * 476 + " " + url) == []
    assert codes(check_content("mastodon", "a" * 477 + " " + url)) == [ViolationCode.TEXT_TOO_LONG]


def test_x_counts_cjk_double_at_the_boundary():
    assert check_content("x", "字" * 140) == []
    [violation] = check_content("x", "字" * 141)
    assert violation.actual == 282


def test_a_post_needs_text_or_media():
    assert codes(check_content("mastodon", "  \n")) == [ViolationCode.EMPTY_POST]
    assert check_content("mastodon", "", [image()]) == []


def test_media_count_boundary():
    assert check_content("mastodon", "hi", [image()] * 4) == []
    [violation] = check_content("mastodon", "hi", [image()] * 5)
    assert (violation.field, violation.code, violation.limit) == ("media", ViolationCode.TOO_MANY_MEDIA, 4)


def test_media_size_boundary_names_the_attachment():
    assert check_content("bluesky", "hi", [image(1_000_000)]) == []
    [violation] = check_content("bluesky", "hi", [image(), image(1_000_001)])
    assert violation.field == "media[1].size_bytes"
    assert (violation.limit, violation.actual) == (1_000_000, 1_000_001)


def test_mime_type_outside_the_platform_list_is_refused_with_the_allowed_list():
    [violation] = check_content("x", "hi", [image(mime_type="image/heic")])
    assert violation.code is ViolationCode.MEDIA_TYPE_NOT_ALLOWED
    assert "image/png" in violation.limit


def test_mime_type_parameters_and_case_are_ignored():
    assert check_content("mastodon", "hi", [image(mime_type="Image/JPEG; q=0.9")]) == []


def test_video_duration_boundary():
    assert check_content("x", "hi", [video(seconds=140)]) == []
    [violation] = check_content("x", "hi", [video(seconds=140.5)])
    assert (violation.field, violation.code, violation.limit) == (
        "media[0].duration_s",
        ViolationCode.MEDIA_TOO_LONG,
        140,
    )


def test_unknown_duration_is_not_held_against_the_post():
    assert check_content("bluesky", "hi", [video(seconds=None)]) == []


def test_images_and_a_video_cannot_share_a_post():
    assert codes(check_content("bluesky", "hi", [image(), video()])) == [ViolationCode.MIXED_MEDIA]


def test_x_takes_one_gif_at_most():
    gif = image(mime_type="image/gif")
    assert check_content("x", "hi", [gif]) == []
    [violation] = check_content("x", "hi", [gif, gif])
    assert (violation.code, violation.limit, violation.actual) == (ViolationCode.TOO_MANY_OF_KIND, 1, 2)


def test_every_violation_is_reported_not_only_the_first():
    violations = check_content("sandbox", "a" * 1001, [video(size_bytes=65 * MIB)] * 2)
    assert set(codes(violations)) == {
        ViolationCode.TEXT_TOO_LONG,
        ViolationCode.MEDIA_TOO_LARGE,
        ViolationCode.TOO_MANY_OF_KIND,
    }


def test_a_spec_can_be_passed_instead_of_a_name():
    assert check_content(get_platform("x"), "a" * 281)[0].platform == "x"


def test_unknown_platform_raises():
    with pytest.raises(UnknownPlatform):
        check_content("friendster", "hi")


def test_a_video_in_a_codec_the_platform_does_not_decode_names_codec_and_accepted_ones():
    vp9 = MediaInfo(mime_type="video/mp4", size_bytes=1000, duration_s=5, video_codec="vp9")
    (violation,) = check_content("x", "clip", [vp9])
    assert (violation.field, violation.code, violation.limit, violation.actual) == (
        "media[0].video_codec",
        ViolationCode.VIDEO_CODEC_NOT_ALLOWED,
        ["h264"],
        "vp9",
    )
    assert check_content("mastodon", "clip", [vp9]) == [], "Mastodon transcodes any codec"
    unknown = MediaInfo(mime_type="video/mp4", size_bytes=1000, duration_s=5)
    assert check_content("x", "clip", [unknown]) == [], "an unknown codec is not refused"


@pytest.mark.parametrize(("platform", "limit"), [("linkedin", 3000), ("youtube", 5000), ("tiktok", 2200)])
def test_the_major_platforms_text_limits(platform, limit):
    assert check_content(platform, "a" * limit, [video()]) == []
    assert ViolationCode.TEXT_TOO_LONG in codes(check_content(platform, "a" * (limit + 1), [video()]))


def test_youtube_counts_its_description_in_utf8_bytes():
    assert codes(check_content("youtube", "é" * 2501, [video()])) == [ViolationCode.TEXT_TOO_MANY_BYTES]


@pytest.mark.parametrize("platform", ["youtube", "tiktok"])
def test_a_video_platform_refuses_a_post_without_media(platform):
    [violation] = check_content(platform, "just words")
    assert (violation.field, violation.code) == ("media", ViolationCode.MEDIA_REQUIRED)


def test_linkedin_takes_twenty_images_or_one_video_of_thirty_minutes():
    assert check_content("linkedin", "hi", [image()] * 20) == []
    assert ViolationCode.TOO_MANY_MEDIA in codes(check_content("linkedin", "hi", [image()] * 21))
    assert check_content("linkedin", "hi", [video(seconds=30 * 60)]) == []
    assert codes(check_content("linkedin", "hi", [video(seconds=30 * 60 + 1)])) == [
        ViolationCode.MEDIA_TOO_LONG
    ]


def test_youtube_holds_an_unverified_channels_fifteen_minutes():
    assert check_content("youtube", "tour", [video(seconds=900)]) == []
    assert codes(check_content("youtube", "tour", [video(seconds=901)])) == [ViolationCode.MEDIA_TOO_LONG]


def test_tiktok_takes_photos_as_jpeg_or_webp_but_not_png():
    assert check_content("tiktok", "hi", [image(mime_type="image/webp")] * 35) == []
    assert codes(check_content("tiktok", "hi", [image(mime_type="image/png")])) == [
        ViolationCode.MEDIA_TYPE_NOT_ALLOWED
    ]


def test_instagram_needs_media_and_takes_a_mixed_carousel_of_ten():
    assert codes(check_content("instagram", "caption only")) == [ViolationCode.MEDIA_REQUIRED]
    assert check_content("instagram", "", [image()] * 5 + [video()] * 5) == []
    assert ViolationCode.TOO_MANY_MEDIA in codes(check_content("instagram", "", [image()] * 11))
    assert codes(check_content("instagram", "", [image(mime_type="image/png")])) == [
        ViolationCode.MEDIA_TYPE_NOT_ALLOWED
    ]


def test_meta_text_and_video_limits():
    assert check_content("threads", "x" * 500) == []
    assert codes(check_content("threads", "x" * 501)) == [ViolationCode.TEXT_TOO_LONG]
    assert codes(check_content("threads", "", [video(seconds=301)])) == [ViolationCode.MEDIA_TOO_LONG]
    assert codes(check_content("facebook", "", [image(size_bytes=4_000_001)])) == [
        ViolationCode.MEDIA_TOO_LARGE
    ]
    assert codes(check_content("facebook", "", [image(), video()])) == [ViolationCode.MIXED_MEDIA]
