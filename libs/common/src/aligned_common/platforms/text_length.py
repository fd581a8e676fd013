"""Text length as each platform counts it.

The counts are the platforms' own rules, re-implemented closely enough to predict a refusal
before a post is sent. Where a rule is approximated the docstring says how; an approximation
should err on the side of counting more, so that we refuse rather than the platform.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import regex

from aligned_common.platforms.limits import TextCounting

# Every URL counts as this many characters on Mastodon and X, whatever its real length.
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

# twitter-text also links bare domains ("example.com/x"). The real rule knows every TLD; this
# list covers the common ones, so a bare domain on a rare TLD counts at its real length.
_COMMON_TLDS = (
    "com|net|org|io|co|ai|app|dev|me|info|biz|edu|gov|ly|gl|tv|fm|news|blog|shop|xyz|"
    "us|uk|de|fr|es|it|nl|be|ch|at|se|no|dk|fi|pl|pt|ie|ca|au|nz|jp|cn|kr|in|br|mx|ru"
)
_TWITTER_URL = regex.compile(
    r"(?<![\w@.])(?:https?://[^\s<>\"]+?|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:"
    + _COMMON_TLDS
    + r")\b(?::\d+)?(?:/[^\s<>\"]*?)?)(?=[.,;:!?)\]}'\"]*(?:\s|$))",
    regex.IGNORECASE,
)

# twitter-text v3 configuration: code points in these ranges weigh 100, all others 200, and the
# total is divided by 100. So Latin text counts 1 a character and CJK counts 2.
_TWITTER_SCALE = 100
_TWITTER_DEFAULT_WEIGHT = 200
_TWITTER_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_TWITTER_LIGHT_WEIGHT = 100
_EMOJI_MARKER = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}|\uFE0F|\u20E3")


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
    """twitter-text v3 weighted length (NFC first, URLs 23, each emoji sequence 2)."""
    normalized = unicodedata.normalize("NFC", text)
    weight = 0
    position = 0
    for url in _TWITTER_URL.finditer(normalized):
        weight += _twitter_weight(normalized[position : url.start()])
        weight += SHORTENED_URL_LENGTH * _TWITTER_SCALE
        position = url.end()
    weight += _twitter_weight(normalized[position:])
    return weight // _TWITTER_SCALE


def _twitter_weight(text: str) -> int:
    return sum(_twitter_grapheme_weight(grapheme) for grapheme in _GRAPHEME.findall(text))


def _twitter_grapheme_weight(grapheme: str) -> int:
    if _is_emoji(grapheme):
        return _TWITTER_DEFAULT_WEIGHT  # a whole emoji sequence (ZWJ family, flag, keycap) weighs 2
    return sum(_twitter_code_point_weight(char) for char in grapheme)


def _is_emoji(grapheme: str) -> bool:
    # '©' or '™' alone sit in the light ranges and count as ordinary text, as in twitter-text.
    if len(grapheme) == 1 and _twitter_code_point_weight(grapheme) == _TWITTER_LIGHT_WEIGHT:
        return False
    return _EMOJI_MARKER.search(grapheme) is not None


def _twitter_code_point_weight(char: str) -> int:
    code_point = ord(char)
    if any(low <= code_point <= high for low, high in _TWITTER_LIGHT_RANGES):
        return _TWITTER_LIGHT_WEIGHT
    return _TWITTER_DEFAULT_WEIGHT


_MEASURES: dict[TextCounting, Callable[[str], int]] = {
    TextCounting.CODE_POINTS: count_code_points,
    TextCounting.GRAPHEMES: count_graphemes,
    TextCounting.MASTODON: mastodon_length,
    TextCounting.TWITTER_WEIGHTED: twitter_weighted_length,
}


def measure_text(text: str, counting: TextCounting) -> int:
    return _MEASURES[counting](text)
