"""Text length as each platform counts it.

The counts are the platforms' own rules, re-implemented closely enough to predict a refusal
before a post is sent. Where a rule is approximated the docstring says how; an approximation
should err on the side of counting more, so that we refuse rather than the platform.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import regex

with warnings.catch_warnings():
    # It loads its emoji table with pkg_resources, which warns of its own deprecation.
    warnings.simplefilter("ignore", UserWarning)
    from twitter_text import parse_tweet
    from twitter_text.extract_urls import extract_urls_with_indices

from aligned_common.platforms.limits import TextCounting

# Every URL counts as this many characters on Mastodon (and X), whatever its real length.
SHORTENED_URL_LENGTH = 23

_GRAPHEME = regex.compile(r"\X")

# A URL with a scheme; trailing punctuation (a full stop, a closing bracket) is not part of it,
# as in the platforms' extractors.
_URL_WITH_SCHEME = regex.compile(
    r"""https?://[^\s<>"]+?(?=[.,;:!?)\]}'"]*(?:\s|$))""",
    regex.IGNORECASE,
)

# Mastodon counts a remote mention @user@example.social as its local part @user.
_REMOTE_MENTION = regex.compile(
    r"(?<![\w/])@([a-z0-9_]+(?:[a-z0-9_.-]*[a-z0-9_])?)@[\w.-]*\w",
    regex.IGNORECASE,
)


def count_code_points(text: str) -> int:
    return len(text)


def count_graphemes(text: str) -> int:
    """User-perceived characters: a flag, a family emoji or 'é' made of two code points is one."""
    return sum(1 for _ in _GRAPHEME.finditer(text))


def mastodon_length(text: str) -> int:
    """Mastodon's StatusLengthValidator: URLs with a scheme count 23, remote mentions their local
    part, and the rest is counted in graphemes."""
    countable = _URL_WITH_SCHEME.sub("x" * SHORTENED_URL_LENGTH, text)
    countable = _REMOTE_MENTION.sub(lambda mention: "@" + mention[1], countable)
    return count_graphemes(countable)


def twitter_weighted_length(text: str) -> int:
    """twitter-text v3 weighted length, by twitter-text-parser (a port of twitter-text that passes
    the official conformance suite, tests/unit/platforms/twitter_text_conformance.json): NFC
    first, every URL 23 (bare domains too, against the full TLD list), CJK 2, an emoji sequence 2."""
    return int(parse_tweet(text).weightedLength)


def without_twitter_urls(text: str) -> str:
    """The text with every URL X would link (bare domains too) taken out: what survives X's
    rewriting of links to t.co, to recognise a post by its text."""
    kept, position = [], 0
    for url in extract_urls_with_indices(text):
        start, end = url["indices"]
        kept.append(text[position:start])
        position = end
    kept.append(text[position:])
    return "".join(kept)


_MEASURES: dict[TextCounting, Callable[[str], int]] = {
    TextCounting.CODE_POINTS: count_code_points,
    TextCounting.GRAPHEMES: count_graphemes,
    TextCounting.MASTODON: mastodon_length,
    TextCounting.TWITTER_WEIGHTED: twitter_weighted_length,
}


def measure_text(text: str, counting: TextCounting) -> int:
    return _MEASURES[counting](text)
