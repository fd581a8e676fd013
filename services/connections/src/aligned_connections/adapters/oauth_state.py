"""The OAuth `state` parameter: signed (HMAC-SHA256), expiring, bound to brand, user and platform.

The signature proves we issued it; the nonce inside is stored and consumed once, so a replayed
callback is refused even within the state's lifetime.

Only the exact text we issued verifies: the signature must be the canonical unpadded base64url
of the 32 MAC bytes (a lenient decoder maps several texts to one value: the last character's
spare bits, padding, stray characters), then the raw MAC bytes are compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass


class BadState(ValueError):
    pass


@dataclass(frozen=True)
class StateClaims:
    nonce: str
    brand_id: uuid.UUID
    user_id: str
    platform: str
    expires_at: float


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def sign_state(claims: StateClaims, secret: bytes) -> str:
    body = json.dumps(
        {
            "n": claims.nonce,
            "b": str(claims.brand_id),
            "u": claims.user_id,
            "p": claims.platform,
            "e": claims.expires_at,
        },
        separators=(",", ":"),
    ).encode()
    encoded = _b64(body)
    return f"{encoded}.{_b64(_mac(encoded, secret))}"


def verify_state(state: str, secret: bytes, now: float | None = None) -> StateClaims:
    encoded, _, signature = state.partition(".")
    if not encoded or not signature:
        raise BadState("malformed state")
    given = _strict_b64decode(signature)
    if given is None or not hmac.compare_digest(_mac(encoded, secret), given):
        raise BadState("state signature does not verify")
    try:
        body = json.loads(base64.urlsafe_b64decode(_pad(encoded)))
        claims = StateClaims(
            str(body["n"]), uuid.UUID(body["b"]), str(body["u"]), str(body["p"]), float(body["e"])
        )
    except (ValueError, KeyError, TypeError):
        raise BadState("malformed state") from None
    if (now or time.time()) > claims.expires_at:
        raise BadState("state has expired")
    return claims


def _mac(encoded: str, secret: bytes) -> bytes:
    return hmac.new(secret, encoded.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


_B64URL = re.compile(r"[A-Za-z0-9_-]+")


def _strict_b64decode(text: str) -> bytes | None:
    """The bytes `text` is the canonical unpadded base64url of, or None."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    raw = base64.urlsafe_b64decode(_pad(text))
    return raw if _b64(raw) == text else None


def _pad(text: str) -> str:
    return text + "=" * (-len(text) % 4)
