"""Who is calling: the identity the gateway verified, forwarded in signed headers.

The gateway checks the JWT and membership, then calls a service with
X-Aligned-{Tenant-Id,Brand-Id,User-Id,Role,Timestamp} and X-Aligned-Signature, an
HMAC-SHA256 with the internal secret (ALIGNED_INTERNAL_SECRET, from a Kubernetes Secret).
A service trusts no identity without a valid, fresh signature, and then filters every query
by that brand (defence in depth behind the gateway).

Bound signatures (what the gateway and the operator tools send): the HMAC also covers the
request's method, its path and query as sent, the target service (X-Aligned-Audience) and
the SHA-256 of its body (X-Aligned-Body-SHA256), and lives BOUND_MAX_AGE_S; a captured
header set cannot be replayed against another route, service or body, nor for long. A
service (ServiceSettings.require_bound_identity, on by default) refuses unbound ones; the
in-process test harness turns that off so tests may keep calling `signed_headers(identity)`.

Where the request came from (`Origin`: the client's IP address and user agent, the caller's
e-mail) travels beside the identity in X-Aligned-Origin, with its own bound signature
(X-Aligned-Origin-Signature), so public routes (a review link) have it too. The gateway alone
decides the client's address (from trusted proxies only), and a service records what it was
told there, never a header a client could set: the audit trail can name who acted and from where.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from dataclasses import dataclass
from typing import Annotated, Literal, cast

from fastapi import Depends, Request

from aligned_common.problems import Problem

Role = Literal["owner", "admin", "editor", "approver", "client", "viewer"]
ROLES: tuple[str, ...] = ("owner", "admin", "editor", "approver", "client", "viewer")
MAX_SKEW_S = 300  # unbound signatures (tests only, see the module docstring)
BOUND_MAX_AGE_S = 30
FUTURE_SKEW_S = 5  # clocks of two pods may differ a little

_FIELDS = ("Tenant-Id", "Brand-Id", "User-Id", "Role", "Timestamp")


@dataclass(frozen=True)
class Identity:
    tenant_id: uuid.UUID
    brand_id: uuid.UUID
    user_id: str
    role: Role

    def can(self, *roles: str) -> bool:
        return self.role in roles


@dataclass(frozen=True)
class Origin:
    """Where a request came from, as the gateway saw it."""

    client_ip: str | None = None
    user_agent: str | None = None
    email: str | None = None  # the caller's, from the verified token; None on public routes


def internal_secret() -> bytes:
    secret = os.environ.get("ALIGNED_INTERNAL_SECRET")
    if not secret:
        raise RuntimeError("ALIGNED_INTERNAL_SECRET is not set")
    return secret.encode()


def _signature(values: list[str], secret: bytes) -> str:
    return hmac.new(secret, "\n".join(values).encode(), hashlib.sha256).hexdigest()


def signed_headers(
    identity: Identity, secret: bytes | None = None, now: float | None = None
) -> dict[str, str]:
    """What the gateway (and tests) send to a service."""
    values = [
        str(identity.tenant_id),
        str(identity.brand_id),
        identity.user_id,
        identity.role,
        str(int(now or time.time())),
    ]
    headers = {f"X-Aligned-{name}": value for name, value in zip(_FIELDS, values, strict=True)}
    headers["X-Aligned-Signature"] = _signature(values, secret or internal_secret())
    return headers


@dataclass(frozen=True)
class RequestBinding:
    """What a bound signature covers besides the identity."""

    method: str
    target: str  # path and query exactly as sent, e.g. "/v1/jobs?limit=5"
    audience: str  # the service the request is for, e.g. "publishing"
    body_sha256: str  # hex

    @classmethod
    def of(cls, method: str, target: str, audience: str, body: bytes = b"") -> RequestBinding:
        return cls(method.upper(), target, audience, hashlib.sha256(body).hexdigest())

    def signed_values(self) -> list[str]:
        return ["v2", self.method, self.target, self.audience, self.body_sha256]


def request_target(path: str, query: str) -> str:
    """Path and query as sent; an empty query is no query (httpx may send a bare '?')."""
    return f"{path}?{query}" if query else path


def bound_headers(
    identity: Identity, binding: RequestBinding, secret: bytes | None = None, now: float | None = None
) -> dict[str, str]:
    """Signed headers for one request (the gateway, aligned-admin)."""
    values = [
        str(identity.tenant_id),
        str(identity.brand_id),
        identity.user_id,
        identity.role,
        str(int(now or time.time())),
    ]
    headers = {f"X-Aligned-{name}": value for name, value in zip(_FIELDS, values, strict=True)}
    headers["X-Aligned-Audience"] = binding.audience
    headers["X-Aligned-Body-SHA256"] = binding.body_sha256
    headers["X-Aligned-Signature"] = _signature(values + binding.signed_values(), secret or internal_secret())
    return headers


def origin_header(origin: Origin, now: float | None = None) -> dict[str, str]:
    """The unsigned X-Aligned-Origin header; `bind_request` signs it for the request it goes with."""
    value = {
        "ip": origin.client_ip,
        "ua": origin.user_agent,
        "email": origin.email,
        "at": int(now or time.time()),
    }
    return {"X-Aligned-Origin": base64.urlsafe_b64encode(json.dumps(value).encode()).decode("ascii")}


def _origin_signature(value: str, binding: RequestBinding, secret: bytes) -> str:
    return _signature(["origin", value, *binding.signed_values()], secret)


def bind_request(request, audience: str, secret: bytes | None = None, now: float | None = None) -> None:
    """Turn the identity (and origin) headers of an httpx.Request into signatures bound to that request."""
    has_identity = "X-Aligned-Signature" in request.headers
    origin = request.headers.get("X-Aligned-Origin")
    if not has_identity and origin is None:
        return
    path, _, query = request.url.raw_path.decode("ascii").partition("?")
    binding = RequestBinding.of(request.method, request_target(path, query), audience, request.read())
    if has_identity:
        identity = _identity([request.headers.get(f"X-Aligned-{name}") for name in _FIELDS])
        request.headers.update(bound_headers(identity, binding, secret, now))
    if origin is not None:
        request.headers["X-Aligned-Origin-Signature"] = _origin_signature(
            origin, binding, secret or internal_secret()
        )


def verify_origin(
    headers, binding: RequestBinding, secret: bytes | None = None, now: float | None = None
) -> Origin | None:
    """The origin the gateway signed for this request; None when it sent none (a service called
    by a tool or a test). One that does not verify is a 401: somebody tried to name an address."""
    value = headers.get("X-Aligned-Origin")
    if value is None:
        return None
    given = headers.get("X-Aligned-Origin-Signature", "")
    if not hmac.compare_digest(
        _origin_signature(value, binding, secret or internal_secret()).encode(),
        given.encode("utf-8", "surrogateescape"),
    ):
        raise Problem(401, "Unauthenticated", detail="bad request origin signature")
    try:
        fields = json.loads(base64.urlsafe_b64decode(value.encode("ascii")))
        age = (now or time.time()) - int(fields["at"])
    except (ValueError, KeyError, TypeError):
        raise Problem(401, "Unauthenticated", detail="malformed request origin") from None
    if not -FUTURE_SKEW_S <= age <= BOUND_MAX_AGE_S:
        raise Problem(401, "Unauthenticated", detail="stale request origin")
    return Origin(client_ip=fields.get("ip"), user_agent=fields.get("ua"), email=fields.get("email"))


def verify_headers(
    headers,
    secret: bytes | None = None,
    now: float | None = None,
    *,
    binding: RequestBinding | None = None,
    audience: str | None = None,
    require_bound: bool = False,
) -> Identity:
    """`binding`: what the request really is (method, target, body hash, with the audience the
    headers name); `audience`: this service's name, which a bound signature must name."""
    values = [headers.get(f"X-Aligned-{name}") for name in _FIELDS]
    given = headers.get("X-Aligned-Signature")
    if given is None or any(v is None for v in values):
        raise Problem(401, "Unauthenticated", detail="missing internal identity headers")
    bound = headers.get("X-Aligned-Audience") is not None
    if bound and binding is None:
        raise Problem(401, "Unauthenticated", detail="a bound internal identity needs its request to verify")
    if not bound and require_bound:
        raise Problem(401, "Unauthenticated", detail="internal identity is not bound to the request")
    signed = values + binding.signed_values() if bound and binding is not None else values
    # Bytes, not str: compare_digest raises on a non-ASCII str (a header may carry latin-1 text).
    if not hmac.compare_digest(
        _signature(signed, secret or internal_secret()).encode(), given.encode("utf-8", "surrogateescape")
    ):
        raise Problem(401, "Unauthenticated", detail="bad internal identity signature")
    try:
        age = (now or time.time()) - int(values[4])
    except ValueError:
        raise Problem(401, "Unauthenticated", detail="malformed internal identity") from None
    if (bound and not -FUTURE_SKEW_S <= age <= BOUND_MAX_AGE_S) or (not bound and abs(age) > MAX_SKEW_S):
        raise Problem(401, "Unauthenticated", detail="stale internal identity")
    if bound and binding is not None and audience is not None and binding.audience != audience:
        raise Problem(401, "Unauthenticated", detail="internal identity is for another service")
    return _identity(values)


def _identity(values: list[str | None]) -> Identity:
    if values[3] not in ROLES:
        raise Problem(401, "Unauthenticated", detail=f"unknown role {values[3]!r}")
    try:
        # Every value is there (verify() checked) and the role is one of ROLES (just checked).
        return Identity(
            uuid.UUID(values[0]), uuid.UUID(values[1]), cast(str, values[2]), cast(Role, values[3])
        )
    except ValueError:
        raise Problem(401, "Unauthenticated", detail="malformed internal identity") from None


class BodyDigest:
    """ASGI middleware: hashes the request body as it streams in, whoever reads it first.

    FastAPI parses a form or JSON body before it resolves dependencies, and a form's stream can
    be read only once, so the identity check cannot read the body again; it takes the hash this
    middleware kept (`scope["state"]["body_sha256"]`), and an upload is never held in memory twice.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        digest = hashlib.sha256()
        state = scope.setdefault("state", {})

        async def hashing_receive():
            message = await receive()
            if message["type"] == "http.request":
                digest.update(message.get("body", b""))
                if not message.get("more_body", False):
                    state["body_sha256"] = digest.hexdigest()
            return message

        await self.app(scope, hashing_receive, send)


async def _body_sha256(request: Request) -> str:
    known = request.scope.get("state", {}).get("body_sha256")
    return known if known is not None else hashlib.sha256(await request.body()).hexdigest()


async def _binding_of(request: Request, audience: str) -> RequestBinding:
    """What this request really is (method, path and query as sent, body hash), for `audience`."""
    # Some ASGI servers put the query in raw_path too; it is added back from query_string.
    path = request.scope.get("raw_path", request.url.path.encode()).split(b"?")[0].decode("latin-1")
    target = request_target(path, request.scope.get("query_string", b"").decode("latin-1"))
    return RequestBinding(request.method, target, audience, await _body_sha256(request))


def _service_name(request: Request) -> str | None:
    return getattr(getattr(getattr(request.app.state, "ctx", None), "settings", None), "service_name", None)


async def current_identity(request: Request) -> Identity:
    """FastAPI dependency: `identity: Identity = Depends(current_identity)`. Events the request
    emits carry the identity and its origin as their actor (envelope.acting_as)."""
    headers = request.headers
    ctx = getattr(request.app.state, "ctx", None)
    settings = getattr(ctx, "settings", None)
    binding = None
    if headers.get("X-Aligned-Audience") is not None:
        binding = await _binding_of(request, headers["X-Aligned-Audience"])
        if not hmac.compare_digest(
            binding.body_sha256.encode(),
            headers.get("X-Aligned-Body-SHA256", "").encode("utf-8", "surrogateescape"),
        ):
            raise Problem(401, "Unauthenticated", detail="internal identity was signed for another body")
    identity = verify_headers(
        headers,
        binding=binding,
        audience=getattr(settings, "service_name", None),
        require_bound=bool(getattr(settings, "require_bound_identity", False)),
    )
    origin = await _verified_origin(request)
    from aligned_common.envelope import Actor, acting_as

    acting_as(Actor.of(identity, origin))
    return identity


# A route's caller, verified: `async def route(identity: Caller)`. One alias for every service.
Caller = Annotated[Identity, Depends(current_identity)]


async def current_origin(request: Request) -> Origin | None:
    """FastAPI dependency for public routes (no identity): the client's signed origin, which
    events the request emits carry as their actor."""
    origin = await _verified_origin(request)
    from aligned_common.envelope import Actor, acting_as

    acting_as(Actor.of(None, origin))
    return origin


async def _verified_origin(request: Request) -> Origin | None:
    if request.headers.get("X-Aligned-Origin") is None:
        return None
    # Signed for this service (the audience is in the binding): one signed for another fails. With
    # an identity, its audience header is the one verify_headers checked against this service.
    audience = request.headers.get("X-Aligned-Audience") or _service_name(request) or ""
    return verify_origin(request.headers, await _binding_of(request, audience))


def require_role(identity: Identity, *roles: str) -> None:
    if not identity.can(*roles):
        raise Problem(
            403,
            "Forbidden",
            detail=f"role {identity.role!r} may not do this; needs one of {', '.join(roles)}",
        )
