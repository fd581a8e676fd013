"""GET /v1/events/stream: server-sent events of the caller's brand, filtered by role,
resumable with Last-Event-ID within the retention window.

Bounded: a user and a brand may hold only so many open streams, counted across replicas by
a lease per open stream (service_layer/stream_leases.py; 429 beyond), and an open stream re-checks its caller every `live_recheck_s`: a member removed (or left
without the events permission) or a token past its expiry gets a last `end` event naming the
reason and the stream closes; a changed role filters from then on.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Request
from sse_starlette.sse import EventSourceResponse

from aligned_common.identity import Identity
from aligned_common.problems import Problem, problem_response_doc
from aligned_gateway.domain.claims import Claims
from aligned_gateway.domain.permissions import Permission, allows, may_see_event
from aligned_gateway.entrypoints.http import Bearer, Service, Who
from aligned_gateway.entrypoints.problems import HeaderProblem
from aligned_gateway.service_layer.deps import Deps
from aligned_gateway.service_layer.live_events import Hub, LiveEvent, StreamLimit

router = APIRouter()


def _message(event: LiveEvent) -> dict[str, str]:
    return {"id": event.id, "event": event.type, "data": event.payload}


def _end(reason: str) -> dict[str, str]:
    return {"event": "end", "data": orjson.dumps({"reason": reason}).decode()}


async def _still_allowed(deps: Deps, identity: Identity, claims: Claims) -> tuple[str | None, str]:
    """The caller's role now, or None and why the stream must end."""
    if claims.expires_at is not None and time.time() >= claims.expires_at:
        return None, "token expired"
    role = await deps.members.role_of(identity.brand_id, identity.user_id)
    if role is None:
        return None, "no longer a member of this brand"
    if not allows(role, Permission.EVENTS_STREAM):
        return None, "may no longer stream events"
    return role, ""


def _limits(deps: Deps) -> dict[str, int]:
    settings = deps.settings
    return {
        "max_per_user": settings.live_max_streams_per_user,
        "max_per_brand": settings.live_max_streams_per_brand,
    }


async def _events(
    deps: Deps,
    hub: Hub,
    identity: Identity,
    claims: Claims,
    last_event_id: str | None,
    lease_id: uuid.UUID,
) -> AsyncIterator[dict[str, str]]:
    leases = deps.stream_leases
    recheck_s = deps.settings.live_recheck_s
    leases.hold(lease_id)  # here, not at the opening: a stream that never runs never releases
    try:
        # Before the backlog, so nothing falls between.
        subscriber = hub.subscribe(identity.brand_id, identity.user_id, **_limits(deps))
    except StreamLimit as exc:  # others opened streams on this replica since the lease was taken
        leases.release(lease_id)
        yield _end(str(exc))
        return
    role: str = identity.role
    try:
        backlog: list[LiveEvent] = []
        if last_event_id:
            backlog, found = hub.since(identity.brand_id, last_event_id)
            if not found:
                # Too old to resume: tell the client to reload its state; then what we have.
                yield {"event": "reset", "data": "{}"}
        sent = {e.id for e in backlog}
        for missed in backlog:
            if may_see_event(role, missed.type):
                yield _message(missed)
        next_check = time.monotonic() + recheck_s
        while not subscriber.overflowed:
            event: LiveEvent | None = None
            try:
                event = await asyncio.wait_for(
                    subscriber.queue.get(), max(0.0, next_check - time.monotonic())
                )
            except TimeoutError:
                pass
            if time.monotonic() >= next_check:
                now_role, why = await _still_allowed(deps, identity, claims)
                if now_role is None:
                    yield _end(why)
                    return
                role = now_role
                next_check = time.monotonic() + recheck_s
            if event is None or event.id in sent or not may_see_event(role, event.type):
                continue
            yield _message(event)
    finally:
        hub.unsubscribe(subscriber)
        leases.release(lease_id)


@router.get(
    "/v1/events/stream",
    tags=["live events"],
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "server-sent events"},
        429: problem_response_doc(429, "too many open streams for this user or brand"),
    },
)
async def stream(
    request: Request,
    identity: Who,
    claims: Bearer,
    deps: Service,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    access_token: str | None = None,
) -> EventSourceResponse:
    """Each domain event of the caller's brand the role may see, as it happens. `id` is the
    event id: reconnect with Last-Event-ID to resume. `access_token` is for EventSource
    clients that cannot send an Authorization header. A last `end` event says why the
    gateway closed the stream (membership removed, token expired)."""
    if not allows(identity.role, Permission.EVENTS_STREAM):
        raise Problem(403, "Forbidden", detail="may not stream events")
    hub = deps.hub
    if hub is None:
        raise Problem(503, "Live events unavailable", detail="live events are switched off")
    limits = _limits(deps)
    lease_id, full = await deps.stream_leases.acquire(identity, **limits)
    if lease_id is None:
        limit = limits[f"max_per_{full}"]
        raise HeaderProblem(
            429,
            "Too many open streams",
            detail=f"at most {limit} open streams per {full}",
            headers={"Retry-After": "5"},
            limit=limit,
        )
    return EventSourceResponse(_events(deps, hub, identity, claims, last_event_id, lease_id), ping=15)
