"""The brand's API for outbound webhooks (identity from the gateway's signed headers)."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response

from aligned_common.app import ServiceContext, context_of
from aligned_common.identity import Identity, current_identity, require_role
from aligned_webhooks.domain.deliverable import DELIVERABLE_EVENT_TYPES
from aligned_webhooks.entrypoints.api_models import (
    AttemptOut,
    CreateEndpoint,
    DeliveryOut,
    EndpointOut,
    EndpointWithSecret,
    Replayed,
    ReplaySince,
    SecretOut,
    UpdateEndpoint,
)
from aligned_webhooks.entrypoints.delivery_loop import wake_channel
from aligned_webhooks.service_layer import endpoints

router = APIRouter(prefix="/v1", tags=["outbound webhooks"])

MANAGERS = ("owner", "admin")
READERS = ("owner", "admin", "editor")


def _deps(ctx: ServiceContext) -> endpoints.EndpointDeps:
    return ctx.deps["endpoints"]


@router.get("/webhook-event-types")
async def event_types(identity: Identity = Depends(current_identity)) -> list[str]:
    return sorted(DELIVERABLE_EVENT_TYPES)


@router.post("/webhook-endpoints", status_code=201)
async def create_endpoint(
    body: CreateEndpoint,
    identity: Identity = Depends(current_identity),
    ctx: ServiceContext = Depends(context_of),
) -> EndpointWithSecret:
    require_role(identity, *MANAGERS)
    endpoint, secret = await endpoints.create(
        _deps(ctx), identity, body.url, body.description, body.event_types
    )
    return EndpointWithSecret(**EndpointOut.of(endpoint).model_dump(), secret=secret)


@router.get("/webhook-endpoints")
async def list_endpoints(
    identity: Identity = Depends(current_identity), ctx: ServiceContext = Depends(context_of)
) -> list[EndpointOut]:
    require_role(identity, *READERS)
    return [EndpointOut.of(e) for e in await endpoints.list_all(_deps(ctx), identity)]


@router.get("/webhook-endpoints/{endpoint_id}")
async def get_endpoint(
    endpoint_id: uuid.UUID,
    identity: Identity = Depends(current_identity),
    ctx: ServiceContext = Depends(context_of),
) -> EndpointOut:
    require_role(identity, *READERS)
    return EndpointOut.of(await endpoints.get(_deps(ctx), identity, endpoint_id))


@router.patch("/webhook-endpoints/{endpoint_id}")
async def update_endpoint(
    endpoint_id: uuid.UUID,
    body: UpdateEndpoint,
    identity: Identity = Depends(current_identity),
    ctx: ServiceContext = Depends(context_of),
) -> EndpointOut:
    require_role(identity, *MANAGERS)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return EndpointOut.of(await endpoints.update(_deps(ctx), identity, endpoint_id, changes))


@router.delete("/webhook-endpoints/{endpoint_id}", status_code=204)
async def delete_endpoint(
    endpoint_id: uuid.UUID,
    identity: Identity = Depends(current_identity),
    ctx: ServiceContext = Depends(context_of),
) -> Response:
    require_role(identity, *MANAGERS)
    await endpoints.delete(_deps(ctx), identity, endpoint_id)
    return Response(status_code=204)


@router.get("/webhook-endpoints/{endpoint_id}/secret")
async def get_secret(
    endpoint_id: uuid.UUID,
    identity: Identity = Depends(current_identity),
    ctx: ServiceContext = Depends(context_of),
) -> SecretOut:
    require_role(identity, *MANAGERS)
    return SecretOut(secret=await endpoints.reveal_secret(_deps(ctx), identity, endpoint_id))


@router.post("/webhook-endpoints/{endpoint_id}/rotate-secret")
async def rotate_secret(
    endpoint_id: uuid.UUID,
    identity: Identity = Depends(current_identity),
    ctx: ServiceContext = Depends(context_of),
) -> EndpointWithSecret:
    require_role(identity, *MANAGERS)
    endpoint, secret = await endpoints.rotate_secret(_deps(ctx), identity, endpoint_id)
    return EndpointWithSecret(**EndpointOut.of(endpoint).model_dump(), secret=secret)


@router.get("/webhook-endpoints/{endpoint_id}/deliveries")
async def list_deliveries(
    endpoint_id: uuid.UUID,
    status: Literal["pending", "succeeded", "failed"] | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    identity: Identity = Depends(current_identity),
    ctx: ServiceContext = Depends(context_of),
) -> list[DeliveryOut]:
    require_role(identity, *READERS)
    rows = await endpoints.deliveries(_deps(ctx), identity, endpoint_id, status, limit)
    return [DeliveryOut(**dict(r)) for r in rows]


@router.post("/webhook-endpoints/{endpoint_id}/replay")
async def replay_failed(
    endpoint_id: uuid.UUID,
    body: ReplaySince,
    identity: Identity = Depends(current_identity),
    ctx: ServiceContext = Depends(context_of),
) -> Replayed:
    """Queue again every failed delivery of this endpoint created since `since`."""
    require_role(identity, *MANAGERS)
    count = await endpoints.replay_failed(
        _deps(ctx), identity, endpoint_id, body.since, wake_channel(ctx.schema)
    )
    return Replayed(replayed=count)


@router.get("/webhook-deliveries/{delivery_id}/attempts")
async def list_attempts(
    delivery_id: uuid.UUID,
    identity: Identity = Depends(current_identity),
    ctx: ServiceContext = Depends(context_of),
) -> list[AttemptOut]:
    require_role(identity, *READERS)
    return [AttemptOut(**dict(r)) for r in await endpoints.attempts(_deps(ctx), identity, delivery_id)]


@router.post("/webhook-deliveries/{delivery_id}/replay", status_code=202)
async def replay_delivery(
    delivery_id: uuid.UUID,
    identity: Identity = Depends(current_identity),
    ctx: ServiceContext = Depends(context_of),
) -> dict[str, str]:
    require_role(identity, *MANAGERS)
    await endpoints.replay_delivery(_deps(ctx), identity, delivery_id, wake_channel(ctx.schema))
    return {"status": "queued"}
