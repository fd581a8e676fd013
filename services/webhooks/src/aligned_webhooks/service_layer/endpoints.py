"""Commands and queries on a brand's outbound endpoints and their deliveries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from aligned_common.clock import Clock
from aligned_common.db import UnitOfWork
from aligned_common.identity import Identity
from aligned_common.platforms.standard_webhooks import WebhookSecret
from aligned_common.problems import Problem
from aligned_webhooks.adapters import delivery_store, endpoint_store
from aligned_webhooks.adapters.secret_box import SecretBox
from aligned_webhooks.adapters.ssrf import RefusedTarget, TargetPolicy, check_target
from aligned_webhooks.domain.endpoints import Endpoint


@dataclass
class EndpointDeps:
    pool: asyncpg.Pool
    schema: str
    box: SecretBox
    policy: TargetPolicy
    rotation_overlap_s: float
    clock: Clock


def _not_found(endpoint_id: uuid.UUID) -> Problem:
    return Problem(404, "Endpoint not found", detail=f"no webhook endpoint {endpoint_id}")


async def _checked_url(url: str, policy: TargetPolicy) -> str:
    try:
        await check_target(url, policy)
    except RefusedTarget as refused:
        raise Problem(
            422,
            "Invalid request",
            detail=f"invalid fields: url ({refused})",
            errors=[{"field": "url", "message": str(refused)}],
        ) from None
    return url


async def create(
    deps: EndpointDeps, identity: Identity, url: str, description: str, event_types: list[str]
) -> tuple[Endpoint, str]:
    """The new endpoint and its secret (shown now; later only through the secret call)."""
    await _checked_url(url, deps.policy)
    endpoint_id = uuid.uuid4()
    secret = WebhookSecret.generate()
    sealed = deps.box.seal(secret, str(endpoint_id))
    async with UnitOfWork(deps.pool, deps.schema, brand_id=identity.brand_id) as uow:
        endpoint = await endpoint_store.insert(
            uow.conn,
            endpoint_id,
            identity.brand_id,
            identity.tenant_id,
            url,
            description,
            event_types,
            sealed,
        )
    return endpoint, secret


async def get(deps: EndpointDeps, identity: Identity, endpoint_id: uuid.UUID) -> Endpoint:
    async with UnitOfWork(deps.pool, deps.schema, brand_id=identity.brand_id) as uow:
        endpoint = await endpoint_store.get(uow.conn, identity.brand_id, endpoint_id)
    if endpoint is None:
        raise _not_found(endpoint_id)
    return endpoint


async def list_all(deps: EndpointDeps, identity: Identity) -> list[Endpoint]:
    async with UnitOfWork(deps.pool, deps.schema, brand_id=identity.brand_id) as uow:
        return await endpoint_store.list_for_brand(uow.conn, identity.brand_id)


async def update(deps: EndpointDeps, identity: Identity, endpoint_id: uuid.UUID, changes: dict) -> Endpoint:
    now = deps.clock.now()
    if "url" in changes:
        await _checked_url(changes["url"], deps.policy)
    if changes.get("enabled") is True:
        # Re-enabling starts a fresh health record; the reason it was switched off goes away.
        changes |= {"disabled_reason": None, "disabled_at": None, "failing_since": None}
    elif changes.get("enabled") is False:
        changes |= {"disabled_reason": "disabled by the brand", "disabled_at": now}
    async with UnitOfWork(deps.pool, deps.schema, brand_id=identity.brand_id) as uow:
        endpoint = (
            await endpoint_store.update(uow.conn, identity.brand_id, endpoint_id, changes, now)
            if changes
            else await endpoint_store.get(uow.conn, identity.brand_id, endpoint_id)
        )
    if endpoint is None:
        raise _not_found(endpoint_id)
    return endpoint


async def delete(deps: EndpointDeps, identity: Identity, endpoint_id: uuid.UUID) -> None:
    async with UnitOfWork(deps.pool, deps.schema, brand_id=identity.brand_id) as uow:
        if not await endpoint_store.delete(uow.conn, identity.brand_id, endpoint_id):
            raise _not_found(endpoint_id)


async def reveal_secret(deps: EndpointDeps, identity: Identity, endpoint_id: uuid.UUID) -> str:
    async with UnitOfWork(deps.pool, deps.schema, brand_id=identity.brand_id) as uow:
        if await endpoint_store.get(uow.conn, identity.brand_id, endpoint_id) is None:
            raise _not_found(endpoint_id)
        current, _, _ = await endpoint_store.secrets(uow.conn, endpoint_id)
    return deps.box.open(current, str(endpoint_id))


async def rotate_secret(
    deps: EndpointDeps, identity: Identity, endpoint_id: uuid.UUID
) -> tuple[Endpoint, str]:
    """A new secret signs from now on; the old one also signs until the overlap ends."""
    secret = WebhookSecret.generate()
    now = deps.clock.now()
    expires_at = now + timedelta(seconds=deps.rotation_overlap_s)
    async with UnitOfWork(deps.pool, deps.schema, brand_id=identity.brand_id) as uow:
        if await endpoint_store.get(uow.conn, identity.brand_id, endpoint_id, lock=True) is None:
            raise _not_found(endpoint_id)
        current, _, _ = await endpoint_store.secrets(uow.conn, endpoint_id)
        endpoint = await endpoint_store.rotate(
            uow.conn,
            identity.brand_id,
            endpoint_id,
            deps.box.seal(secret, str(endpoint_id)),
            current,
            expires_at,
            now,
        )
    return endpoint, secret


async def deliveries(
    deps: EndpointDeps, identity: Identity, endpoint_id: uuid.UUID, status: str | None, limit: int
) -> list[asyncpg.Record]:
    async with UnitOfWork(deps.pool, deps.schema, brand_id=identity.brand_id) as uow:
        if await endpoint_store.get(uow.conn, identity.brand_id, endpoint_id) is None:
            raise _not_found(endpoint_id)
        return await delivery_store.list_for_endpoint(uow.conn, identity.brand_id, endpoint_id, status, limit)


async def attempts(deps: EndpointDeps, identity: Identity, delivery_id: uuid.UUID) -> list[asyncpg.Record]:
    async with UnitOfWork(deps.pool, deps.schema, brand_id=identity.brand_id) as uow:
        found = await delivery_store.attempts_of(uow.conn, identity.brand_id, delivery_id)
    if found is None:
        raise Problem(404, "Delivery not found", detail=f"no webhook delivery {delivery_id}")
    return found


async def replay_delivery(
    deps: EndpointDeps, identity: Identity, delivery_id: uuid.UUID, wake_channel: str
) -> None:
    async with UnitOfWork(deps.pool, deps.schema, brand_id=identity.brand_id) as uow:
        replayed = await delivery_store.replay_one(uow.conn, identity.brand_id, delivery_id, deps.clock.now())
        if replayed is None:
            raise Problem(404, "Delivery not found", detail=f"no webhook delivery {delivery_id}")
        if replayed is False:
            raise Problem(
                409,
                "Delivery still pending",
                detail="it is still being retried; replay it once it has finished",
            )
        await uow.conn.execute("SELECT pg_notify($1, '')", wake_channel)


async def replay_failed(
    deps: EndpointDeps, identity: Identity, endpoint_id: uuid.UUID, since: datetime, wake_channel: str
) -> int:
    async with UnitOfWork(deps.pool, deps.schema, brand_id=identity.brand_id) as uow:
        if await endpoint_store.get(uow.conn, identity.brand_id, endpoint_id) is None:
            raise _not_found(endpoint_id)
        count = await delivery_store.replay_failed_since(
            uow.conn, identity.brand_id, endpoint_id, since, deps.clock.now()
        )
        if count:
            await uow.conn.execute("SELECT pg_notify($1, '')", wake_channel)
    return count
