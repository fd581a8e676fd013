"""PKCE (RFC 7636) as the authorization server checks it; only S256 is accepted, as OAuth 2.1 asks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

# 43 to 128 characters from the unreserved set (RFC 7636 section 4.1).
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def s256_challenge(code_verifier: str) -> str:
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verifier_matches(code_verifier: str, code_challenge: str) -> bool:
    if not _VERIFIER.fullmatch(code_verifier):
        return False
    return hmac.compare_digest(s256_challenge(code_verifier), code_challenge)
