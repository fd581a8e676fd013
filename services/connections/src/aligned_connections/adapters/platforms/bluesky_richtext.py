"""Facets: Bluesky shows a link or a hashtag as such only when the record says where it is, in
UTF-8 byte offsets. Mentions are left as text: they need a handle-to-DID lookup."""

from __future__ import annotations

import re
from typing import Any

_LINK = re.compile(r"""https?://[^\s<>"]+?(?=[.,;:!?)\]}'"]*(?:\s|$))""", re.IGNORECASE)
_HASHTAG = re.compile(r"(?:^|(?<=\s))#([^\s#.,;:!?()\[\]{}'\"]{1,64})")


def facets(text: str) -> list[dict[str, Any]]:
    found = [
        _facet(text, match.start(), match.end(), {"$type": "app.bsky.richtext.facet#link", "uri": match[0]})
        for match in _LINK.finditer(text)
    ]
    found += [
        _facet(text, match.start(), match.end(), {"$type": "app.bsky.richtext.facet#tag", "tag": match[1]})
        for match in _HASHTAG.finditer(text)
        if not match[1].isdigit()
    ]
    return found


def _facet(text: str, start: int, end: int, feature: dict[str, str]) -> dict[str, Any]:
    byte_start = len(text[:start].encode("utf-8"))
    byte_end = byte_start + len(text[start:end].encode("utf-8"))
    return {"index": {"byteStart": byte_start, "byteEnd": byte_end}, "features": [feature]}
