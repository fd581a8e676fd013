"""What a brand does with its connections: read them, verify, refresh now, disconnect."""

from __future__ import annotations

import logging
import uuid

from aligned_common.events.connections import Disconnected
from aligned_common.identity import Identity
from aligned_common.problems import Problem
from aligned_connections.adapters import connections_repo as repo
from aligned_connections.adapters.platforms import AuthFailure, NotSupported, PlatformError
from aligned_connections.domain.connection import Connection, Status
from aligned_connections.runtime import Runtime
from aligned_connections.service_layer.tokens import mark_dead, refresh_connection

log = logging.getLogger(__name__)


async def get(rt: Runtime, identity: Identity, connection_id: uuid.UUID) -> Connection:
    async with rt.uow(identity.brand_id) as uow:
        connection = await repo.get(uow.conn, identity.brand_id, connection_id)
    if connection is None:
        raise Problem(404, "Connection not found", detail=f"no connection {connection_id} in this brand")
    return connection


async def list_connections(
    rt: Runtime, identity: Identity, platform: str | None, status: str | None
) -> list[Connection]:
    async with rt.uow(identity.brand_id) as uow:
        return await repo.list_for_brand(uow.conn, identity.brand_id, platform, status)


async def expiring(rt: Runtime, identity: Identity, within_hours: float) -> list[Connection]:
    async with rt.uow(identity.brand_id) as uow:
        return await repo.expiring_within(uow.conn, identity.brand_id, within_hours * 3600)


async def stats(rt: Runtime, identity: Identity) -> dict[str, dict[str, int]]:
    """{platform: {status: count}} with every status present, zeros included."""
    async with rt.uow(identity.brand_id) as uow:
        rows = await repo.stats(uow.conn, identity.brand_id)
    by_platform: dict[str, dict[str, int]] = {}
    for platform, status, count in rows:
        by_platform.setdefault(platform, {s.value: 0 for s in Status})[status] = count
    return by_platform


async def verify(rt: Runtime, identity: Identity, connection_id: uuid.UUID) -> Connection:
    """Ask the platform whether the token still works; refresh once if it does not."""
    connection = await get(rt, identity, connection_id)
    if connection.status is not Status.CONNECTED:
        raise Problem(
            409,
            "Connection is not active",
            detail=f"the connection is {connection.status.value}; connect it again",
        )
    adapter = rt.platforms.get(connection.platform)
    try:
        account = await adapter.get_account(rt.vault.access_token(connection))
    except AuthFailure:
        refreshed = await refresh_connection(rt, identity.brand_id, connection_id)
        if refreshed.kind != "refreshed":
            if refreshed.kind == "no_refresh_token":
                async with rt.uow(identity.brand_id) as uow:
                    await mark_dead(
                        uow,
                        connection,
                        Status.EXPIRED,
                        "the platform refused the token and there is no refresh token",
                    )
            return await _answer_after_refresh(rt, identity, connection_id, refreshed.error)
        try:
            account = await adapter.get_account(refreshed.access_token)
        except AuthFailure as refused:
            async with rt.uow(identity.brand_id) as uow:
                await mark_dead(uow, connection, Status.EXPIRED, refused.platform_message or str(refused))
            return await get(rt, identity, connection_id)
        except PlatformError as failure:
            raise _unavailable(failure) from None
    except PlatformError as failure:
        raise _unavailable(failure) from None
    async with rt.uow(identity.brand_id) as uow:
        await repo.mark_verified(uow.conn, connection_id, account.name)
    return await get(rt, identity, connection_id)


async def _answer_after_refresh(
    rt: Runtime, identity: Identity, connection_id: uuid.UUID, error: str | None
) -> Connection:
    connection = await get(rt, identity, connection_id)
    if connection.status is Status.CONNECTED and error:
        raise Problem(503, "The platform is unavailable", detail=error, retry_after=5)
    return connection


async def refresh_now(rt: Runtime, identity: Identity, connection_id: uuid.UUID) -> Connection:
    result = await refresh_connection(rt, identity.brand_id, connection_id)
    if result.kind == "not_found":
        raise Problem(404, "Connection not found", detail=f"no connection {connection_id} in this brand")
    if result.kind == "not_usable":
        raise Problem(
            409, "Connection is not active", detail=f"the connection is {result.connection.status.value}"
        )
    if result.kind == "no_refresh_token":
        raise Problem(409, "Nothing to refresh", detail="the platform gave this connection no refresh token")
    if result.kind == "transient":
        raise Problem(
            503,
            "The platform is unavailable",
            detail=result.error,
            retry_after=int(result.retry_after_s or 5),
        )
    return await get(rt, identity, connection_id)


async def disconnect(rt: Runtime, identity: Identity, connection_id: uuid.UUID) -> Connection:
    """Revoke at the platform where it offers that (best effort), forget the tokens, tell others."""
    connection = await get(rt, identity, connection_id)
    if connection.status is Status.DISCONNECTED:
        return connection
    await _revoke_at_platform(rt, connection)
    async with rt.uow(identity.brand_id) as uow:
        await repo.wipe_tokens(uow.conn, connection_id)
        await uow.emit(
            Disconnected(
                connection_id=connection.id, platform=connection.platform, account_id=connection.account_id
            ),
            brand_id=connection.brand_id,
            tenant_id=connection.tenant_id,
            subject=str(connection.id),
        )
    return await get(rt, identity, connection_id)


async def _revoke_at_platform(rt: Runtime, connection: Connection) -> None:
    adapter = rt.platforms.get(connection.platform)
    # Revoking the refresh token ends the whole grant on OAuth platforms; the access token is
    # the fallback where there is none.
    token = rt.vault.refresh_token(connection) or rt.vault.access_token(connection)
    if token is None:
        return
    try:
        await adapter.revoke(token)
    except NotSupported:
        pass
    except PlatformError as failure:
        # The user asked to disconnect; a platform that is down must not stop that. Our copy
        # of the tokens is deleted either way.
        log.warning(
            "revocation at the platform failed",
            extra={"ctx_connection_id": str(connection.id), "ctx_error": str(failure)},
        )


def _unavailable(failure: PlatformError) -> Problem:
    return Problem(503, "The platform is unavailable", detail=str(failure), retry_after=5)
