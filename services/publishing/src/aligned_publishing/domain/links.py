"""Tracked links: UTM tagging of the URLs in a target's text, short-link codes, and the text
as published with short links (what content fit must count).

Pure functions; the link settings per brand and the stored short links are not built yet
(issue 24, "Tracked links").
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# A URL with a scheme; trailing punctuation (a full stop, a closing bracket) is not part of it,
# as in aligned_common.platforms.text_length, so that "see https://a.example/x." keeps its stop.
URL_IN_TEXT = re.compile(r"""https?://[^\s<>"]+?(?=[.,;:!?)\]}'"]*(?:\s|$))""", re.IGNORECASE)

# Lower-case letters and digits without the look-alikes 0/o and 1/l, so a code read aloud or
# retyped from a screenshot still works.
CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
CODE_LENGTH = 8  # 32**8 ≈ 1.1e12 codes: collisions are rare and retried on insert


@dataclass(frozen=True)
class UtmParameters:
    source: str
    medium: str
    campaign: str | None


def utm_for(platform: str, *, campaign: str | None, default_campaign: str | None) -> UtmParameters:
    """utm_source is the platform, utm_medium 'social', utm_campaign the job's or the brand's."""
    return UtmParameters(source=platform, medium="social", campaign=campaign or default_campaign)


def tag_url(url: str, utm: UtmParameters) -> str:
    """The URL with the UTM parameters it does not already carry.

    Parameters already in the URL win (the author chose them) and are never duplicated; the
    other query parameters keep their order and the fragment stays at the end. Anything that
    is not an http(s) URL is returned unchanged.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return url
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {name.lower() for name, _ in query}
    wanted = [("utm_source", utm.source), ("utm_medium", utm.medium)]
    if utm.campaign:
        wanted.append(("utm_campaign", utm.campaign))
    added = [(name, value) for name, value in wanted if name not in present]
    if not added:
        return url
    new_query = f"{parts.query}&{urlencode(added)}" if parts.query else urlencode(added)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, new_query, parts.fragment))


def replace_urls(text: str, replace: Callable[[str], str]) -> str:
    """The text with every URL in it replaced by replace(url); the rest is untouched."""
    return URL_IN_TEXT.sub(lambda match: replace(match[0]), text)


def tag_text(text: str, utm: UtmParameters) -> str:
    return replace_urls(text, lambda url: tag_url(url, utm))


def new_code(choose: Callable[[str], str] = secrets.choice) -> str:
    """A short random link code; uniqueness is the store's (a unique key, retried on conflict)."""
    return "".join(choose(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass(frozen=True)
class ShortLink:
    code: str
    target_url: str  # the tagged URL the short link redirects to


def shorten_text(
    text: str, public_base: str, code_for: Callable[[str], str] = lambda _url: new_code()
) -> tuple[str, list[ShortLink]]:
    """The text as published with short links: each URL becomes <public_base>/l/<code>.

    The same URL written twice gets one code. The result is what content fit must count.
    """
    links: dict[str, ShortLink] = {}

    def shorten(url: str) -> str:
        if url not in links:
            links[url] = ShortLink(code=code_for(url), target_url=url)
        return f"{public_base.rstrip('/')}/l/{links[url].code}"

    return replace_urls(text, shorten), list(links.values())
