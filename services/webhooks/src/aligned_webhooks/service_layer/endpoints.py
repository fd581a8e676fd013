"""Commands and queries on a brand's outbound endpoints and their deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from aligned_common.identity import Identity
from aligned_common.platforms.standard_webhooks import WebhookSecret
from aligned_common.ssrf import RefusedTarget, check_target
from aligned_webhooks.domain.endpoints import Endpoint
from aligned_webhooks.domain.errors import (
    DeliveryNotFound,
    DeliveryStillPending,
    EndpointNotFound,
    RefusedUrl,
)
from aligned_webhooks.service_layer.deps import Deps


def _not_found(endpoint_id: uuid.UUID) -> EndpointNotFound:
    return EndpointNotFound(f"no webhook endpoint {endpoint_id}")


async def _checked_url(deps: Deps, url: str) -> str:
    try:
        await check_target(url, deps.target_policy())
    except RefusedTarget as refused:
        raise RefusedUrl(str(refused)) from None
    return url


async def create(
    deps: Deps, identity: Identity, url: str, description: str, event_types: list[str]
) -> tuple[Endpoint, str]:
    """The new endpoint and its secret (shown now; later only through the secret call)."""
    await _checked_url(deps, url)
    endpoint_id = uuid.uuid4()
    secret = WebhookSecret.generate()
    sealed = deps.box.seal(secret, str(endpoint_id))
    async with deps.uow(identity.brand_id) as uow:
        endpoint = await uow.endpoints.insert(
            endpoint_id, identity.brand_id, identity.tenant_id, url, description, event_types, sealed
        )
    return endpoint, secret


async def get(deps: Deps, identity: Identity, endpoint_id: uuid.UUID) -> Endpoint:
    async with deps.uow(identity.brand_id) as uow:
        endpoint = await uow.endpoints.get(identity.brand_id, endpoint_id)
    if endpoint is None:
        raise _not_found(endpoint_id)
    return endpoint


async def list_all(deps: Deps, identity: Identity) -> list[Endpoint]:
    async with deps.uow(identity.brand_id) as uow:
        return await uow.endpoints.list_for_brand(identity.brand_id)


async def update(deps: Deps, identity: Identity, endpoint_id: uuid.UUID, changes: dict[str, Any]) -> Endpoint:
    now = deps.clock.now()
    if "url" in changes:
        await _checked_url(deps, changes["url"])
    if changes.get("enabled") is True:
        # Re-enabling starts a fresh health record; the reason it was switched off goes away.
        changes |= {"disabled_reason": None, "disabled_at": None, "failing_since": None}
    elif changes.get("enabled") is False:
        changes |= {"disabled_reason": "disabled by the brand", "disabled_at": now}
    async with deps.uow(identity.brand_id) as uow:
        endpoint = (
            await uow.endpoints.update(identity.brand_id, endpoint_id, changes, now)
            if changes
            else await uow.endpoints.get(identity.brand_id, endpoint_id)
        )
    if endpoint is None:
        raise _not_found(endpoint_id)
    return endpoint


async def delete(deps: Deps, identity: Identity, endpoint_id: uuid.UUID) -> None:
    async with deps.uow(identity.brand_id) as uow:
        if not await uow.endpoints.delete(identity.brand_id, endpoint_id):
            raise _not_found(endpoint_id)


async def reveal_secret(deps: Deps, identity: Identity, endpoint_id: uuid.UUID) -> str:
    async with deps.uow(identity.brand_id) as uow:
        if await uow.endpoints.get(identity.brand_id, endpoint_id) is None:
            raise _not_found(endpoint_id)
        current, _, _ = await uow.endpoints.secrets(endpoint_id)
    return deps.box.open(current, str(endpoint_id))


async def rotate_secret(deps: Deps, identity: Identity, endpoint_id: uuid.UUID) -> tuple[Endpoint, str]:
    """A new secret signs from now on; the old one also signs until the overlap ends."""
    secret = WebhookSecret.generate()
    now = deps.clock.now()
    expires_at = now + timedelta(seconds=deps.settings.secret_rotation_overlap_s)
    async with deps.uow(identity.brand_id) as uow:
        if await uow.endpoints.get(identity.brand_id, endpoint_id, lock=True) is None:
            raise _not_found(endpoint_id)
        current, _, _ = await uow.endpoints.secrets(endpoint_id)
        endpoint = await uow.endpoints.rotate(
            identity.brand_id, endpoint_id, deps.box.seal(secret, str(endpoint_id)), current, expires_at, now
        )
    if endpoint is None:  # deleted meanwhile: the row was locked, so this is not expected
        raise _not_found(endpoint_id)
    return endpoint, secret


async def deliveries(
    deps: Deps, identity: Identity, endpoint_id: uuid.UUID, status: str | None, limit: int
) -> list[Mapping[str, Any]]:
    async with deps.uow(identity.brand_id) as uow:
        if await uow.endpoints.get(identity.brand_id, endpoint_id) is None:
            raise _not_found(endpoint_id)
        return await uow.deliveries.list_for_endpoint(identity.brand_id, endpoint_id, status, limit)


async def attempts(deps: Deps, identity: Identity, delivery_id: uuid.UUID) -> list[Mapping[str, Any]]:
    async with deps.uow(identity.brand_id) as uow:
        found = await uow.deliveries.attempts_of(identity.brand_id, delivery_id)
    if found is None:
        raise DeliveryNotFound(f"no webhook delivery {delivery_id}")
    return found


async def replay_delivery(deps: Deps, identity: Identity, delivery_id: uuid.UUID) -> None:
    async with deps.uow(identity.brand_id) as uow:
        replayed = await uow.deliveries.replay_one(identity.brand_id, delivery_id, deps.clock.now())
        if replayed is None:
            raise DeliveryNotFound(f"no webhook delivery {delivery_id}")
        if replayed is False:
            raise DeliveryStillPending("it is still being retried; replay it once it has finished")
        await uow.wake_deliveries()


async def replay_failed(deps: Deps, identity: Identity, endpoint_id: uuid.UUID, since: datetime) -> int:
    async with deps.uow(identity.brand_id) as uow:
        if await uow.endpoints.get(identity.brand_id, endpoint_id) is None:
            raise _not_found(endpoint_id)
        count = await uow.deliveries.replay_failed_since(
            identity.brand_id, endpoint_id, since, deps.clock.now()
        )
        if count:
            await uow.wake_deliveries()
    return count
