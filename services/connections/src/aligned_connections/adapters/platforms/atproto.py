"""AT Protocol identifiers the Bluesky adapter computes itself: record keys, AT URIs, and the
claims of a session token."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

POST_COLLECTION = "app.bsky.feed.post"

# TIDs are 13 characters of "base32-sortable": a 53-bit microsecond timestamp and a 10-bit
# clock id, big-endian, with the top bit zero.
_BASE32_SORTABLE = "234567abcdefghijklmnopqrstuvwxyz"
_TID_LENGTH = 13
_TID_WINDOW_START_US = 1_672_531_200_000_000  # 2023-01-01T00:00:00Z
_TID_WINDOW_BITS = 48  # about 8.9 years of microseconds


def tid_for_key(idempotency_key: str) -> str:
    """A record key fixed by the idempotency key, so that every retry of one publish writes to
    the same record and the second write cannot create a second post.

    app.bsky.feed.post requires TID syntax. The timestamp part is taken from a hash (kept within
    2023-2031 so it looks like a time); Bluesky orders posts by createdAt, not by record key.
    58 bits of hash make two different keys of one account meet with negligible probability.
    """
    digest = int.from_bytes(hashlib.sha256(idempotency_key.encode()).digest()[:8], "big")
    timestamp_us = _TID_WINDOW_START_US + (digest >> 16) % (1 << _TID_WINDOW_BITS)
    clock_id = digest & 0x3FF
    value = (timestamp_us << 10) | clock_id
    return "".join(_BASE32_SORTABLE[(value >> (5 * shift)) & 31] for shift in reversed(range(_TID_LENGTH)))


@dataclass(frozen=True)
class AtUri:
    repo: str  # the account's DID
    collection: str
    rkey: str

    @classmethod
    def parse(cls, uri: str) -> AtUri:
        match = re.fullmatch(r"at://([^/]+)/([^/]+)/([^/]+)", uri)
        if match is None:
            raise ValueError(f"not an AT URI of a record: {uri!r}")
        return cls(*match.groups())

    def __str__(self) -> str:
        return f"at://{self.repo}/{self.collection}/{self.rkey}"


def session_claims(jwt: str) -> dict[str, Any]:
    """The payload of a session JWT, read without checking its signature: we only learn our own
    DID (`sub`) and when to refresh (`exp`). The PDS checks the token on every call."""
    try:
        payload = jwt.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def expiry_of(jwt: str) -> datetime | None:
    exp = session_claims(jwt).get("exp")
    return datetime.fromtimestamp(exp, tz=UTC) if isinstance(exp, int | float) else None
