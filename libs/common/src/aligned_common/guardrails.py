"""A brand kit's rules checked against a text: pure, no I/O (issue 26, ADR 0030).

Every producer of text (a person's draft, a CSV row, a feed item, later the assistant) asks
`check(rules, text, ...)` and gets findings, each `block` (the text is refused) or `warn`
(stored and shown to approvers). The rules are the guardrail part of a brand kit
(`GuardrailRules`), which the brandkit service publishes with each version.

Spans are offsets into the text as given, in code points (Python's `str` indices): `text[start:end]`
is what offends. A missing disclosure has nothing to point at: its span is empty, at the end of
the text (`start == end == len(text)`), where it would be added.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

Level = Literal["block", "warn"]
NO_NUL = r"^[^\x00]*$"
Term = Field(min_length=1, max_length=200, pattern=NO_NUL)


class BannedTerm(BaseModel):
    term: str = Term
    level: Level = "block"


class Disclosure(BaseModel):
    text: str = Field(min_length=1, max_length=200, pattern=NO_NUL, description="e.g. #ad")
    when_tag: str | None = Field(
        default=None,
        max_length=100,
        pattern=NO_NUL,
        description="required only on jobs carrying this tag (e.g. sponsored); null: on every post",
    )
    platforms: list[str] | None = Field(default=None, max_length=20, description="null: every platform")
    level: Level = "block"


class CountLimit(BaseModel):
    max: int = Field(ge=0, le=1000)
    level: Level = "warn"


class PlatformRules(BaseModel):
    """Where the kit says so, a platform's own limits replace the brand-wide ones."""

    notes: str = Field(default="", max_length=5000, pattern=NO_NUL)
    hashtag_limit: CountLimit | None = None
    mention_limit: CountLimit | None = None


class GuardrailRules(BaseModel):
    banned_terms: list[BannedTerm] = Field(default_factory=list, max_length=500)
    required_disclosures: list[Disclosure] = Field(default_factory=list, max_length=50)
    allowed_link_domains: list[str] = Field(
        default_factory=list, max_length=200, description="empty: links to any domain are allowed"
    )
    link_domain_level: Level = "block"
    hashtag_limit: CountLimit | None = None
    mention_limit: CountLimit | None = None
    platforms: dict[str, PlatformRules] = Field(default_factory=dict, max_length=20)


@dataclass(frozen=True)
class Finding:
    rule: str  # e.g. banned_term:acme, required_disclosure:#ad, link_domain, hashtag_limit
    level: Level
    field: str  # which field of the request, e.g. targets[0].text
    start: int
    end: int
    message: str

    def as_error(self) -> dict[str, object]:
        """An entry of a 422's `errors` (and of a job's stored warnings)."""
        return {
            "field": self.field,
            "message": self.message,
            "rule": self.rule,
            "level": self.level,
            "start": self.start,
            "end": self.end,
        }


# -- normalising, with a way back to the original offsets ----------------------------------
def _fold(text: str) -> tuple[str, list[int]]:
    """The text case- and accent-folded (NFKD, combining marks dropped, casefold), and for each
    folded character the index of the original character it came from."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        decomposed = unicodedata.normalize("NFKD", char)
        for piece in "".join(c for c in decomposed if not unicodedata.combining(c)).casefold():
            out.append(piece)
            origin.append(index)
    return "".join(out), origin


def fold(text: str) -> str:
    return _fold(text)[0]


def _span(origin: list[int], start: int, end: int) -> tuple[int, int]:
    return origin[start], origin[end - 1] + 1


def _whole(term: str) -> re.Pattern[str]:
    # Whole words: no word character right before or after (so "ad" is not found in "adore",
    # and "#ad" not in "#adventure"); works for terms that start or end with punctuation too.
    return re.compile(rf"(?<!\w){re.escape(fold(term).strip())}(?!\w)")


HASHTAG = re.compile(r"(?<![\w#])#\w+")
MENTION = re.compile(r"(?<![\w@])@\w+(?:@[\w.-]+\w)?")
LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)


# -- the rules -----------------------------------------------------------------------------
def _banned(rules: GuardrailRules, text: str, field: str) -> Iterable[Finding]:
    folded, origin = _fold(text)
    for banned in rules.banned_terms:
        if not fold(banned.term).strip():
            continue
        for match in _whole(banned.term).finditer(folded):
            start, end = _span(origin, match.start(), match.end())
            yield Finding(
                f"banned_term:{fold(banned.term).strip()}",
                banned.level,
                field,
                start,
                end,
                f"{text[start:end]!r} is a banned term of this brand",
            )


def _disclosures(
    rules: GuardrailRules, text: str, field: str, platform: str, tags: Sequence[str]
) -> Iterable[Finding]:
    folded = fold(text)
    tagged = {fold(t) for t in tags}
    for disclosure in rules.required_disclosures:
        if disclosure.when_tag is not None and fold(disclosure.when_tag) not in tagged:
            continue
        if disclosure.platforms is not None and platform not in {p.lower() for p in disclosure.platforms}:
            continue
        if not _whole(disclosure.text).search(folded):
            why = f" on a post tagged {disclosure.when_tag!r}" if disclosure.when_tag else ""
            yield Finding(
                f"required_disclosure:{fold(disclosure.text).strip()}",
                disclosure.level,
                field,
                len(text),
                len(text),
                f"{disclosure.text!r} is required{why}",
            )


def _host_allowed(host: str, allowed: Sequence[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in (a.lower().strip(".") for a in allowed))


def _links(rules: GuardrailRules, text: str, field: str) -> Iterable[Finding]:
    if not rules.allowed_link_domains:
        return
    for match in LINK.finditer(text):
        url = match.group(0).rstrip(".,;:!?)")
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            host = ""
        if not _host_allowed(host, rules.allowed_link_domains):
            yield Finding(
                "link_domain",
                rules.link_domain_level,
                field,
                match.start(),
                match.start() + len(url),
                f"a link to {host or url!r}: this brand links only to {', '.join(rules.allowed_link_domains)}",
            )


def _count(
    limit: CountLimit | None, pattern: re.Pattern[str], text: str, field: str, rule: str, what: str
) -> Iterable[Finding]:
    if limit is None:
        return
    found = list(pattern.finditer(text))
    if len(found) > limit.max:
        # The span covers the ones past the limit: those are what to remove.
        yield Finding(
            rule,
            limit.level,
            field,
            found[limit.max].start(),
            found[-1].end(),
            f"{len(found)} {what}; this brand allows {limit.max}",
        )


def check(
    rules: GuardrailRules, text: str, *, field: str, platform: str = "", tags: Sequence[str] = ()
) -> list[Finding]:
    """Every finding of the rules on one text, as posted to `platform` by a job tagged `tags`."""
    platform = platform.lower()
    own = rules.platforms.get(platform)
    hashtags = own.hashtag_limit if own and own.hashtag_limit else rules.hashtag_limit
    mentions = own.mention_limit if own and own.mention_limit else rules.mention_limit
    return [
        *_banned(rules, text, field),
        *_disclosures(rules, text, field, platform, tags),
        *_links(rules, text, field),
        *_count(hashtags, HASHTAG, text, field, "hashtag_limit", "hashtags"),
        *_count(mentions, MENTION, text, field, "mention_limit", "mentions"),
    ]


def check_comment(rules: GuardrailRules, text: str, *, field: str) -> list[Finding]:
    """A first comment: the words and links rules (disclosures and counts are the post's)."""
    return [*_banned(rules, text, field), *_links(rules, text, field)]


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == "block"]


def warnings(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == "warn"]
