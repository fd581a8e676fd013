"""The brand's API for outbound webhooks (identity from the gateway's signed headers)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from aligned_common.app import dependency
from aligned_common.identity import Caller, require_role
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
from aligned_webhooks.service_layer import endpoints
from aligned_webhooks.service_layer.deps import Deps

router = APIRouter(prefix="/v1", tags=["outbound webhooks"])
Service = Annotated[Deps, Depends(dependency(Deps))]

MANAGERS = ("owner", "admin")
READERS = ("owner", "admin", "editor")


@router.get("/webhook-event-types")
async def event_types(identity: Caller) -> list[str]:
    return sorted(DELIVERABLE_EVENT_TYPES)


@router.post("/webhook-endpoints", status_code=201)
async def create_endpoint(
    body: CreateEndpoint,
    identity: Caller,
    deps: Service,
) -> EndpointWithSecret:
    require_role(identity, *MANAGERS)
    endpoint, secret = await endpoints.create(deps, identity, body.url, body.description, body.event_types)
    return EndpointWithSecret(**EndpointOut.of(endpoint).model_dump(), secret=secret)


@router.get("/webhook-endpoints")
async def list_endpoints(identity: Caller, deps: Service) -> list[EndpointOut]:
    require_role(identity, *READERS)
    return [EndpointOut.of(e) for e in await endpoints.list_all(deps, identity)]


@router.get("/webhook-endpoints/{endpoint_id}")
async def get_endpoint(
    endpoint_id: uuid.UUID,
    identity: Caller,
    deps: Service,
) -> EndpointOut:
    require_role(identity, *READERS)
    return EndpointOut.of(await endpoints.get(deps, identity, endpoint_id))


@router.patch("/webhook-endpoints/{endpoint_id}")
async def update_endpoint(
    endpoint_id: uuid.UUID,
    body: UpdateEndpoint,
    identity: Caller,
    deps: Service,
) -> EndpointOut:
    require_role(identity, *MANAGERS)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return EndpointOut.of(await endpoints.update(deps, identity, endpoint_id, changes))


@router.delete("/webhook-endpoints/{endpoint_id}", status_code=204)
async def delete_endpoint(
    endpoint_id: uuid.UUID,
    identity: Caller,
    deps: Service,
) -> Response:
    require_role(identity, *MANAGERS)
    await endpoints.delete(deps, identity, endpoint_id)
    return Response(status_code=204)


@router.get("/webhook-endpoints/{endpoint_id}/secret")
async def get_secret(
    endpoint_id: uuid.UUID,
    identity: Caller,
    deps: Service,
) -> SecretOut:
    require_role(identity, *MANAGERS)
    return SecretOut(secret=await endpoints.reveal_secret(deps, identity, endpoint_id))


@router.post("/webhook-endpoints/{endpoint_id}/rotate-secret")
async def rotate_secret(
    endpoint_id: uuid.UUID,
    identity: Caller,
    deps: Service,
) -> EndpointWithSecret:
    require_role(identity, *MANAGERS)
    endpoint, secret = await endpoints.rotate_secret(deps, identity, endpoint_id)
    return EndpointWithSecret(**EndpointOut.of(endpoint).model_dump(), secret=secret)


@router.get("/webhook-endpoints/{endpoint_id}/deliveries")
async def list_deliveries(
    endpoint_id: uuid.UUID,
    identity: Caller,
    deps: Service,
    status: Literal["pending", "succeeded", "failed"] | None = None,
    limit: int = Query(default=50, ge=1, le=500),
) -> list[DeliveryOut]:
    require_role(identity, *READERS)
    rows = await endpoints.deliveries(deps, identity, endpoint_id, status, limit)
    return [DeliveryOut(**dict(r)) for r in rows]


@router.post("/webhook-endpoints/{endpoint_id}/replay")
async def replay_failed(
    endpoint_id: uuid.UUID,
    body: ReplaySince,
    identity: Caller,
    deps: Service,
) -> Replayed:
    """Queue again every failed delivery of this endpoint created since `since`."""
    require_role(identity, *MANAGERS)
    count = await endpoints.replay_failed(deps, identity, endpoint_id, body.since)
    return Replayed(replayed=count)


@router.get("/webhook-deliveries/{delivery_id}/attempts")
async def list_attempts(
    delivery_id: uuid.UUID,
    identity: Caller,
    deps: Service,
) -> list[AttemptOut]:
    require_role(identity, *READERS)
    return [AttemptOut(**dict(r)) for r in await endpoints.attempts(deps, identity, delivery_id)]


@router.post("/webhook-deliveries/{delivery_id}/replay", status_code=202)
async def replay_delivery(
    delivery_id: uuid.UUID,
    identity: Caller,
    deps: Service,
) -> dict[str, str]:
    require_role(identity, *MANAGERS)
    await endpoints.replay_delivery(deps, identity, delivery_id)
    return {"status": "queued"}
