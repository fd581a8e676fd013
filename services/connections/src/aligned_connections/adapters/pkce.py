"""PKCE (RFC 7636), S256 only."""

from __future__ import annotations

import base64
import hashlib
import secrets


def new_verifier() -> str:
    return secrets.token_urlsafe(64)[:96]  # 43..128 characters of the unreserved set


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
