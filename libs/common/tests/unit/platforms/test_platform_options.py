"""The catalogue's per-platform fields: what a target's platform_options may carry."""

from __future__ import annotations

import pytest

from aligned_common.platforms import OptionCode, as_strings, check_options, get_platform


def codes(platform: str, given: dict) -> list[tuple[str, str]]:
    spec = get_platform(platform)
    return [(v.name, v.code.value) for v in check_options(spec.options, given, spec.display_name)]


def test_tiktok_needs_a_privacy_level_of_the_values_its_api_defines() -> None:
    assert codes("tiktok", {}) == [("privacy_level", "required")]
    assert codes("tiktok", {"privacy_level": "SELF_ONLY", "disable_duet": True}) == []
    assert codes("tiktok", {"privacy_level": "FRIENDS"}) == [("privacy_level", "not_allowed")]


def test_an_unknown_name_is_refused_and_the_message_lists_what_the_platform_takes() -> None:
    spec = get_platform("linkedin")
    (violation,) = check_options(spec.options, {"visibilty": "PUBLIC"}, "LinkedIn")
    assert violation.code is OptionCode.UNKNOWN_OPTION and violation.name == "visibilty"
    assert "visibility" in violation.message


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"title": "Studio tour"}, []),
        ({}, [("title", "required")]),
        ({"title": "   "}, [("title", "required")]),
        ({"title": "t" * 101}, [("title", "too_long")]),
        ({"title": "<b>tour</b>"}, [("title", "not_allowed")]),
        ({"title": "ok", "privacy": "Public"}, [("privacy", "not_allowed")]),
        ({"title": "ok", "made_for_kids": "false"}, [("made_for_kids", "wrong_type")]),
        ({"title": 5}, [("title", "wrong_type")]),
    ],
)
def test_youtube_title_privacy_and_made_for_kids(given: dict, expected: list) -> None:
    assert codes("youtube", given) == expected


def test_pinterest_link_must_be_a_web_address_and_a_board_digits() -> None:
    assert codes("pinterest", {"link": "https://bakery.test/tart", "board_id": "549755885175"}) == []
    assert codes("pinterest", {"link": "javascript:alert(1)"}) == [("link", "not_allowed")]
    assert codes("pinterest", {"board_id": "../boards"}) == [("board_id", "not_allowed")]


def test_a_platform_without_options_refuses_every_name() -> None:
    assert codes("mastodon", {"visibility": "public"}) == [("visibility", "unknown_option")]
    assert codes("mastodon", {}) == []


def test_the_sandbox_takes_visibility_and_sensitive_so_the_path_is_testable_end_to_end() -> None:
    assert codes("sandbox", {"visibility": "unlisted", "sensitive": True}) == []


def test_booleans_reach_the_adapters_as_the_strings_they_read() -> None:
    assert as_strings({"privacy_level": "SELF_ONLY", "disable_comment": True, "disable_duet": False}) == {
        "privacy_level": "SELF_ONLY",
        "disable_comment": "true",
        "disable_duet": "false",
    }
