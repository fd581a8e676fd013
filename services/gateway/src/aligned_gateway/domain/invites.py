"""Invite tokens: `<brand_id>.<secret>`; only the secret's SHA-256 is stored.

The brand prefix lets the accept call look the invite up inside that brand's scope
(row-level security applies) instead of searching every brand's invites.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid


def new_token(brand_id: uuid.UUID) -> tuple[str, bytes]:
    secret = secrets.token_urlsafe(32)
    return f"{brand_id}.{secret}", digest(secret)


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def parse(token: str) -> tuple[uuid.UUID, bytes | None] | None:
    """(brand, the secret's digest, None without a secret), or None when it is no invite token."""
    brand_part, _, secret = token.partition(".")
    try:
        return uuid.UUID(brand_part), digest(secret) if secret else None
    except ValueError:
        return None
