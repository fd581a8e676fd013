import json
from pathlib import Path

import pytest

from aligned_common.platforms.text_length import (
    count_graphemes,
    mastodon_length,
    twitter_weighted_length,
)

pytestmark = pytest.mark.unit

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 7 code points, one emoji
FLAG = "\U0001f1eb\U0001f1f7"
E_WITH_COMBINING_ACUTE = "e\u0301"


@pytest.mark.parametrize("text", [FAMILY, FLAG, E_WITH_COMBINING_ACUTE, "\u2764\ufe0f"])
def test_a_user_perceived_character_is_one_grapheme(text):
    assert count_graphemes(text) == 1


def test_mastodon_counts_any_url_as_23():
    long_url = "https://example.com/" + "p" * 80
    assert mastodon_length(f"read {long_url}") == len("read ") + 23
    assert mastodon_length("https://a.io") == 23


def test_mastodon_leaves_trailing_punctuation_outside_the_url():
    assert mastodon_length("(see https://example.com/page).") == len("(see ") + 23 + len(").")


def test_mastodon_does_not_shorten_a_bare_domain():
    assert mastodon_length("example.com") == len("example.com")


def test_mastodon_counts_a_remote_mention_as_its_local_part():
    assert mastodon_length("hi @alice@social.example.org") == len("hi @alice")


def test_mastodon_counts_emoji_sequences_as_one():
    assert mastodon_length(FAMILY * 3) == 3


def test_x_weighs_latin_one_and_cjk_two():
    assert twitter_weighted_length("hello") == 5
    assert twitter_weighted_length("日本語") == 6


def test_x_weighs_an_emoji_sequence_two_whatever_its_code_points():
    assert twitter_weighted_length(FAMILY) == 2
    assert twitter_weighted_length(FLAG) == 2


def test_x_counts_urls_with_or_without_scheme_as_23():
    assert twitter_weighted_length("https://example.com/" + "x" * 100) == 23
    assert twitter_weighted_length("go to example.com/path now") == len("go to ") + 23 + len(" now")


def test_x_normalizes_before_counting():
    # 'é' typed as e + combining accent is one NFC code point, so it weighs 1, not 2.
    assert twitter_weighted_length(E_WITH_COMBINING_ACUTE) == 1


def _conformance_cases() -> list[dict[str, object]]:
    # twitter-text's own conformance suite (the v3 weighted counter with discounted emoji and the
    # directional markers), converted from its validate.yml: the source is named in the file.
    path = Path(__file__).with_name("twitter_text_conformance.json")
    cases: list[dict[str, object]] = json.loads(path.read_text())["cases"]
    return cases


@pytest.mark.parametrize("case", _conformance_cases(), ids=lambda case: str(case["description"])[:60])
def test_x_counts_as_the_official_conformance_suite_says(case):
    assert twitter_weighted_length(str(case["text"])) == case["weightedLength"]
