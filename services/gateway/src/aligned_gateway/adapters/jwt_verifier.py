"""Access-token verification with PyJWT.

Keys and algorithms are paired and pinned: an HS256 token is only ever checked with the
shared secret, an RS256/ES256 token only with the JWKS key its `kid` names and only with
the algorithm that key's type allows. So `alg: none`, an HS256 token "signed" with a
public RSA key (algorithm confusion) or an unknown algorithm are all refused.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
from jwt import PyJWK, PyJWKSet

from aligned_gateway.domain.claims import Claims

# Which algorithm each key type may verify; nothing else is accepted for that key.
ALGORITHMS_BY_KEY_TYPE = {"RSA": "RS256", "EC": "ES256"}
SYMMETRIC_ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "sub", "iss", "aud"]


class InvalidToken(Exception):
    """The token is missing, malformed, expired, forged or not for us (-> 401)."""


class JwksKeys:
    """Keys by kid from a JWKS URL (refetched when stale or on an unknown kid) or a file."""

    def __init__(self, *, url: str | None, file: str | None, refresh_s: float) -> None:
        self._url = url
        self._file = file
        self._refresh_s = refresh_s
        self._keys: dict[str, PyJWK] = {}
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    @property
    def configured(self) -> bool:
        return bool(self._url or self._file)

    async def key(self, kid: str) -> PyJWK:
        stale = time.monotonic() - self._loaded_at > self._refresh_s
        # An unknown kid may be a rotated key: reload, but at most every few seconds so a
        # flood of made-up kids cannot hammer the identity provider.
        if stale or (kid not in self._keys and time.monotonic() - self._loaded_at > 5):
            await self._reload()
        try:
            return self._keys[kid]
        except KeyError:
            raise InvalidToken(f"unknown signing key {kid!r}") from None

    async def _reload(self) -> None:
        async with self._lock:
            if self._file:
                document = json.loads(await asyncio.to_thread(Path(self._file).read_text))
            elif self._url:
                async with httpx.AsyncClient(timeout=5) as client:
                    response = await client.get(self._url)
                    response.raise_for_status()
                    document = response.json()
            else:
                raise InvalidToken("no JWKS URL or file is configured")
            keys = PyJWKSet.from_dict(document).keys
            self._keys = {k.key_id: k for k in keys if k.key_id and k.key_type in ALGORITHMS_BY_KEY_TYPE}
            self._loaded_at = time.monotonic()


class TokenVerifier:
    def __init__(
        self, *, secret: str | None, jwks: JwksKeys, issuer: str, audience: str, leeway_s: int = 30
    ) -> None:
        self._secret = secret
        self._jwks = jwks
        self._issuer = issuer
        self._audience = audience
        self._leeway_s = leeway_s

    def require_configured(self) -> None:
        """The gateway refuses to start without a way to verify tokens (checked at start-up,
        not when built: `aligned-gateway migrate` and the manifests' checks need no secret)."""
        if not self._secret and not self._jwks.configured:
            raise RuntimeError(
                "no token verification configured: set ALIGNED_GATEWAY_JWT_SECRET or a JWKS URL/file"
            )

    async def verify(self, token: str) -> Claims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed token: {exc}") from None
        key, algorithm = await self._key_for(header)
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": REQUIRED_CLAIMS, "verify_nbf": True},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        return claims_of(payload)

    async def _key_for(self, header: dict[str, Any]) -> tuple[Any, str]:
        alg = header.get("alg")
        kid = header.get("kid")
        if alg == SYMMETRIC_ALGORITHM and self._secret:
            return self._secret, SYMMETRIC_ALGORITHM
        if alg in ALGORITHMS_BY_KEY_TYPE.values() and kid and self._jwks.configured:
            jwk = await self._jwks.key(kid)
            pinned = ALGORITHMS_BY_KEY_TYPE.get(jwk.key_type or "")  # only these types are kept
            # algorithm_name is the JWK's own `alg` (or what its kty/crv imply): it must agree too.
            if pinned is None or alg != pinned or jwk.algorithm_name != pinned:
                raise InvalidToken(f"algorithm {alg!r} is not allowed for key {kid!r}")
            return jwk.key, pinned
        raise InvalidToken(f"algorithm {alg!r} is not accepted")


def claims_of(payload: dict) -> Claims:
    try:
        brands = payload.get("brands")
        if brands is None:
            brands = [payload["brand_id"]] if payload.get("brand_id") else []
        if not isinstance(brands, list):
            raise InvalidToken("brands must be a list")
        return Claims(
            subject=str(payload["sub"]),
            tenant_id=uuid.UUID(str(payload["tenant_id"])),
            brand_ids=tuple(uuid.UUID(str(b)) for b in brands),
            role=payload.get("role"),
            email=payload.get("email"),
            expires_at=float(payload["exp"]),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidToken(f"bad claims: {exc}") from None


def issue_token(
    *,
    secret: str,
    issuer: str,
    audience: str,
    subject: str,
    tenant_id: uuid.UUID,
    brand_ids: list[uuid.UUID],
    role: str,
    email: str | None,
    ttl_s: int,
    now: float | None = None,
) -> str:
    """HS256 token for the development issuer and tests."""
    issued = int(now if now is not None else time.time())
    payload = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "tenant_id": str(tenant_id),
        "brands": [str(b) for b in brand_ids],
        "role": role,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_s,
    }
    if email:
        payload["email"] = email
    return jwt.encode(payload, secret, algorithm=SYMMETRIC_ALGORITHM)
