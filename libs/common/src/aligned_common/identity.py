"""Who is calling: the identity the gateway verified, forwarded in signed headers.

The gateway checks the JWT and membership, then calls a service with
X-Aligned-{Tenant-Id,Brand-Id,User-Id,Role,Timestamp} and X-Aligned-Signature, an
HMAC-SHA256 over those values with the internal secret (ALIGNED_INTERNAL_SECRET, from a
Kubernetes Secret). A service trusts no identity without a valid, fresh signature, and
then filters every query by that brand (defence in depth behind the gateway).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import uuid
from dataclasses import dataclass
from typing import Literal

from fastapi import Request

from aligned_common.problems import Problem

Role = Literal["owner", "admin", "editor", "approver", "client", "viewer"]
ROLES: tuple[str, ...] = ("owner", "admin", "editor", "approver", "client", "viewer")
MAX_SKEW_S = 300

_FIELDS = ("Tenant-Id", "Brand-Id", "User-Id", "Role", "Timestamp")


@dataclass(frozen=True)
class Identity:
    tenant_id: uuid.UUID
    brand_id: uuid.UUID
    user_id: str
    role: Role

    def can(self, *roles: str) -> bool:
        return self.role in roles


def internal_secret() -> bytes:
    secret = os.environ.get("ALIGNED_INTERNAL_SECRET")
    if not secret:
        raise RuntimeError("ALIGNED_INTERNAL_SECRET is not set")
    return secret.encode()


def _signature(values: list[str], secret: bytes) -> str:
    return hmac.new(secret, "\n".join(values).encode(), hashlib.sha256).hexdigest()


def signed_headers(identity: Identity, secret: bytes | None = None, now: float | None = None) -> dict[str, str]:
    """What the gateway (and tests) send to a service."""
    values = [str(identity.tenant_id), str(identity.brand_id), identity.user_id, identity.role, str(int(now or time.time()))]
    headers = {f"X-Aligned-{name}": value for name, value in zip(_FIELDS, values, strict=True)}
    headers["X-Aligned-Signature"] = _signature(values, secret or internal_secret())
    return headers


def verify_headers(headers, secret: bytes | None = None, now: float | None = None) -> Identity:
    values = [headers.get(f"X-Aligned-{name}") for name in _FIELDS]
    given = headers.get("X-Aligned-Signature")
    if given is None or any(v is None for v in values):
        raise Problem(401, "Unauthenticated", detail="missing internal identity headers")
    # Bytes, not str: compare_digest raises on a non-ASCII str (a header may carry latin-1 text).
    if not hmac.compare_digest(_signature(values, secret or internal_secret()).encode(), given.encode("utf-8", "surrogateescape")):
        raise Problem(401, "Unauthenticated", detail="bad internal identity signature")
    if abs((now or time.time()) - int(values[4])) > MAX_SKEW_S:
        raise Problem(401, "Unauthenticated", detail="stale internal identity")
    if values[3] not in ROLES:
        raise Problem(401, "Unauthenticated", detail=f"unknown role {values[3]!r}")
    try:
        return Identity(uuid.UUID(values[0]), uuid.UUID(values[1]), values[2], values[3])
    except ValueError:
        raise Problem(401, "Unauthenticated", detail="malformed internal identity") from None


async def current_identity(request: Request) -> Identity:
    """FastAPI dependency: `identity: Identity = Depends(current_identity)`."""
    return verify_headers(request.headers)


def require_role(identity: Identity, *roles: str) -> None:
    if not identity.can(*roles):
        raise Problem(403, "Forbidden", detail=f"role {identity.role!r} may not do this; needs one of {', '.join(roles)}")
