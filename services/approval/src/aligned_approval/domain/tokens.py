"""Signed, purpose-bound tokens for review links and unsubscribe links (no I/O).

`<payload>.<signature>`: the payload is base64url JSON, the signature an HMAC-SHA256 over
purpose and payload. Signing proves we issued the token (and which brand it belongs to,
so the database lookup can be brand-scoped); expiry, revocation and single use are
checked against the database row it names.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import orjson


class InvalidToken(ValueError):
    pass


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(purpose: str, body: str, secret: bytes) -> str:
    return _b64(hmac.new(secret, f"{purpose}.{body}".encode(), hashlib.sha256).digest())


def sign(purpose: str, payload: dict[str, Any], secret: bytes) -> str:
    body = _b64(orjson.dumps(payload))
    return f"{body}.{_mac(purpose, body, secret)}"


def verify(purpose: str, token: str, secret: bytes) -> dict[str, Any]:
    body, _, given = token.partition(".")
    # Only the exact text we issued: the canonical signature's bytes against the given bytes,
    # in constant time (compare_digest on str raises on non-ASCII text instead of refusing).
    if (
        not body
        or not given
        or not hmac.compare_digest(
            _mac(purpose, body, secret).encode(), given.encode("utf-8", "surrogateescape")
        )
    ):
        raise InvalidToken("bad signature")
    try:
        payload = orjson.loads(_unb64(body))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise InvalidToken("malformed token") from exc
    if not isinstance(payload, dict):
        raise InvalidToken("malformed token")
    return payload
