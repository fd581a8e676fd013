"""GET /v1/events/stream: server-sent events of the caller's brand, filtered by role,
resumable with Last-Event-ID within the retention window."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Request
from sse_starlette.sse import EventSourceResponse

from aligned_common.identity import Identity
from aligned_common.problems import Problem
from aligned_gateway.domain.permissions import Permission, allows, may_see_event
from aligned_gateway.entrypoints.http import Deps, Who
from aligned_gateway.service_layer.live_events import Hub, LiveEvent

router = APIRouter()


def _message(event: LiveEvent) -> dict:
    return {"id": event.id, "event": event.type, "data": event.payload}


async def _events(request: Request, hub: Hub, identity: Identity, last_event_id: str | None) -> AsyncIterator[dict]:
    subscriber = hub.subscribe(identity.brand_id)  # before the backlog, so nothing falls between
    try:
        backlog: list[LiveEvent] = []
        if last_event_id:
            backlog, found = hub.since(identity.brand_id, last_event_id)
            if not found:
                # Too old to resume: tell the client to reload its state; then what we have.
                yield {"event": "reset", "data": "{}"}
        sent = {e.id for e in backlog}
        for event in backlog:
            if may_see_event(identity.role, event.type):
                yield _message(event)
        while not subscriber.overflowed:
            event = await subscriber.queue.get()
            if event.id in sent or not may_see_event(identity.role, event.type):
                continue
            yield _message(event)
    finally:
        hub.unsubscribe(subscriber)


@router.get("/v1/events/stream", tags=["live events"],
            responses={200: {"content": {"text/event-stream": {}}, "description": "server-sent events"}})
async def stream(request: Request, identity: Who, deps: Deps,
                 last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
                 access_token: str | None = None) -> EventSourceResponse:
    """Each domain event of the caller's brand the role may see, as it happens. `id` is the
    event id: reconnect with Last-Event-ID to resume. `access_token` is for EventSource
    clients that cannot send an Authorization header."""
    if not allows(identity.role, Permission.EVENTS_STREAM):
        raise Problem(403, "Forbidden", detail="may not stream events")
    if deps.get("hub") is None:
        raise Problem(503, "Live events unavailable", detail="live events are switched off")
    return EventSourceResponse(_events(request, deps["hub"], identity, last_event_id), ping=15)
