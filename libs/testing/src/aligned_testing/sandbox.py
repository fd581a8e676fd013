"""Client-side helpers for tests that drive the sandbox (its own, the adapters', end to end)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx


@dataclass(frozen=True)
class PkcePair:
    verifier: str
    challenge: str

    @classmethod
    def generate(cls) -> PkcePair:
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


def redirect_query(location: str) -> dict[str, str]:
    """The parameters the authorization server put on the redirect (code, state, or error)."""
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


async def approve(client: httpx.AsyncClient, authorize_url: str, account: str) -> dict[str, str]:
    """Follow an authorization URL as a user who consents at once; gives the redirect's query."""
    separator = "&" if "?" in authorize_url else "?"
    response = await client.get(f"{authorize_url}{separator}auto_approve=1&account={account}")
    if response.status_code != 302:
        raise AssertionError(f"expected a redirect, got {response.status_code}: {response.text}")
    return redirect_query(response.headers["location"])


def bearer(tokens: Mapping[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}
