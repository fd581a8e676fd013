"""The gateway's request pipeline, in front of every route (own and proxied):

request id -> the path, read once (domain/paths.py) -> body limit of the route class ->
authentication (token, brand, current membership) -> rate limits -> Idempotency-Key (POST)
-> the route. A pure ASGI middleware so streamed answers (SSE) pass through untouched and a
POST body can be read here and replayed to the route. Every error leaving it, an unexpected
exception included, is problem+json with the request id.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aligned_common.envelope import Actor, acting_as
from aligned_common.identity import Identity, Origin
from aligned_common.problems import Problem
from aligned_gateway.domain import paths, routes
from aligned_gateway.domain.errors import DomainError
from aligned_gateway.entrypoints.errors import problem_of
from aligned_gateway.entrypoints.problems import BodyTooLarge, http_problem, response_of
from aligned_gateway.service_layer import auth, idempotency, rate_limits
from aligned_gateway.service_layer.deps import Deps

log = logging.getLogger(__name__)

ANONYMOUS = {("POST", "/v1/dev/token")}
# Tenant-level calls: a verified token is enough; they are not about one brand the caller is in yet.
CLAIMS_ONLY = {("POST", "/v1/brands"), ("GET", "/v1/me/brands"), ("POST", "/v1/invites/accept")}
# Tenant-level Idempotency-Keys live under this brand id (no real brand has it).
NO_BRAND = uuid.UUID(int=0)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
MAX_USER_AGENT_CHARS = 512  # what the audit trail keeps of a User-Agent


def _origin(scope: Scope, email: str | None) -> Origin:
    """Where the request came from: the connection's peer, or the client a trusted proxy named
    (ProxyHeadersMiddleware, ALIGNED_GATEWAY_TRUSTED_PROXIES, has settled scope["client"])."""
    client = scope.get("client")
    try:
        ip = str(ipaddress.ip_address(client[0])) if client else None
    except ValueError:
        ip = None  # a proxy wrote something that is no address: unknown rather than made up
    user_agent = _header(scope, b"user-agent")
    return Origin(
        client_ip=ip, user_agent=user_agent[:MAX_USER_AGENT_CHARS] if user_agent else None, email=email
    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _query_token(scope: Scope) -> str | None:
    # EventSource cannot send headers: the live stream alone accepts ?access_token=.
    if scope["path"] != "/v1/events/stream":
        return None
    from urllib.parse import parse_qs

    values = parse_qs(scope.get("query_string", b"").decode()).get("access_token")
    return values[0] if values else None


def _auth_level(method: str, path: str) -> str:
    if not path.startswith("/v1/") or (method, path) in ANONYMOUS or method == "OPTIONS":
        return "none"
    route = routes.match(path)
    if route is not None and route.public:
        return "none"
    return "claims" if (method, path) in CLAIMS_ONLY else "identity"


class GatewayPipeline:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, client_send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, client_send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        extra_headers = [(b"x-request-id", request_id.encode())]
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await client_send(message)

        send = _with_headers(send_tracked, extra_headers)
        instance = None
        try:
            _normalise_path(scope)
            instance = scope["path"]
            body = await _read_body(_bounded_body(scope, receive))
            await self._handle(scope, _replaying(body, receive), send, state, extra_headers, body)
        except (DomainError, Problem, HTTPException) as error:
            if started:
                raise
            if isinstance(error, DomainError):
                problem = problem_of(error)
            else:
                problem = error if isinstance(error, Problem) else http_problem(error)
            await self._answer(problem, instance, state, scope, receive, send)
        except Exception:
            if started:
                raise
            log.exception(
                "request failed", extra={"ctx_request_id": request_id, "ctx_method": scope["method"]}
            )
            problem = Problem(
                500, "Internal error", detail="the gateway failed to answer; quote the request id"
            )
            await self._answer(problem, instance, state, scope, receive, send)

    @staticmethod
    async def _answer(problem: Problem, instance, state, scope, receive, send) -> None:
        response = response_of(problem, instance, state["request_id"])
        for name, value in state.get("rate_headers", {}).items():
            response.headers.setdefault(name, value)
        await response(scope, receive, send)

    async def _handle(self, scope, receive, send, state, extra_headers, body: bytes) -> None:
        deps = _deps(scope)
        method, path = scope["method"], scope["path"]
        level = _auth_level(method, path)
        identity = None
        if level != "none":
            token = auth.bearer_token(_header(scope, b"authorization"), _query_token(scope))
            claims = await auth.verified_claims(deps.verifier, token)
            state["claims"] = claims
            if level == "identity":
                identity = await auth.identity_for(claims, _header(scope, b"x-brand-id"), deps.members)
                state["identity"] = identity
                await self._rate_limit(deps, identity, state, extra_headers)
        claims = state.get("claims")
        state["origin"] = _origin(scope, claims.email if claims else None)
        acting_as(Actor.of(identity, state["origin"]))  # the gateway's own events (members, brands)
        key = _header(scope, b"idempotency-key")
        if method == "POST" and key is not None and level != "none":
            brand_id = identity.brand_id if identity else NO_BRAND
            await self._idempotent(scope, receive, send, deps, brand_id, state["claims"].subject, key, body)
            return
        await self.app(scope, receive, send)

    async def _rate_limit(
        self, deps: Deps, identity: Identity, state: dict[str, Any], extra_headers: list[tuple[bytes, bytes]]
    ) -> None:
        if not deps.settings.rate_limits_enabled:
            return
        verdict = await rate_limits.check(deps.database, identity, deps.limits)
        state["rate_headers"] = verdict.headers()
        if not verdict.allowed:
            raise rate_limits.too_many(verdict)
        extra_headers.extend((k.lower().encode(), v.encode()) for k, v in verdict.headers().items())

    async def _idempotent(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        deps: Deps,
        brand_id: uuid.UUID,
        user_id: str,
        key: str,
        body: bytes,
    ) -> None:
        query = scope.get("query_string", b"").decode()
        target = scope["path"] + (f"?{query}" if query else "")
        outcome = await idempotency.begin(
            deps.database,
            brand_id,
            user_id,
            key,
            "POST",
            target,
            body,
            deps.settings.idempotency_abandoned_after_s,
        )
        if isinstance(outcome, idempotency.StoredResponse):
            await _replay(outcome, send)
            return
        # The answer is held back until it is stored: a client that retries the moment it
        # has the first answer must get the replay, not a "still in progress".
        captured = _Capture()
        stored = None
        try:
            await self.app(scope, receive, captured.send)
            stored = captured.result()
        finally:
            # Nothing reached a service (refused connection): the key is free for a retry. Any
            # other failure may have been applied upstream: the key stays bound, outcome unknown.
            reached = not scope["state"].get("upstream_not_sent", False)
            await idempotency.finish(deps.database, outcome, stored, may_have_applied=reached)
        await captured.flush(send)


def _deps(scope: Scope) -> Deps:
    deps = scope["app"].state.ctx.deps
    if not isinstance(deps, Deps):
        raise RuntimeError(f"the gateway's pipeline needs its Deps, not {type(deps).__name__}")
    return deps


def _normalise_path(scope: Scope) -> None:
    """Reads the path once from the bytes the client sent; the table, the gateway's own routes
    and the upstream URL all use this reading (domain/paths.py)."""
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    try:
        normal = paths.normalise(raw)
        paths.check_query(scope.get("query_string", b""))
    except paths.AmbiguousPath as exc:
        raise Problem(400, "Bad path", detail=str(exc)) from None
    scope["path"] = normal.path
    scope["raw_path"] = normal.raw_path.encode("ascii")


def _bounded_body(scope: Scope, receive: Receive) -> Receive:
    """Counts the body's bytes as they arrive and refuses it (413) as soon as it passes the
    route class's limit (or declares a larger Content-Length), before authentication and
    before any route or service sees a byte of it; at most the limit is ever held."""
    route = routes.match(scope["path"])
    limit = _deps(scope).settings.body_limit(route.body if route else "json")
    declared = _header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    seen = 0

    async def bounded() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return bounded


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Problem(400, "Client disconnected")
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """The body read here, then the client's own messages (a stream waits for its disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            names = {k for k, _ in message.get("headers", [])}
            message = {
                **message,
                "headers": list(message.get("headers", [])) + [h for h in extra if h[0] not in names],
            }
        await send(message)

    return wrapped


async def _replay(stored: idempotency.StoredResponse, send: Send) -> None:
    headers = [(k.encode(), v.encode()) for k, v in stored.headers.items()]
    headers += [(b"idempotent-replayed", b"true"), (b"content-length", str(len(stored.body)).encode())]
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body})


class _Capture:
    """Keeps the response to store it, then sends it on (`flush`)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.complete = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])
            }
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))
            self.complete = not message.get("more_body", False)
        self.messages.append(message)

    async def flush(self, send: Send) -> None:
        for message in self.messages:
            await send(message)

    def result(self) -> idempotency.StoredResponse | None:
        if self.status is None or not self.complete:
            return None
        return idempotency.StoredResponse(self.status, self.headers, b"".join(self.chunks))
