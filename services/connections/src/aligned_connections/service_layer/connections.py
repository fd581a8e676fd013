"""What a brand does with its connections: read them, verify, refresh now, disconnect."""

from __future__ import annotations

import logging
import uuid

from aligned_common.events.connections import Disconnected
from aligned_common.identity import Identity
from aligned_connections.adapters.platforms import AuthFailure, NotSupported, PlatformError
from aligned_connections.domain.connection import Connection, Status
from aligned_connections.domain.errors import (
    ConnectionNotActive,
    ConnectionNotFound,
    NothingToRefresh,
    PlatformUnavailable,
)
from aligned_connections.service_layer.deps import Deps
from aligned_connections.service_layer.tokens import mark_dead, refresh_connection

log = logging.getLogger(__name__)


async def get(deps: Deps, identity: Identity, connection_id: uuid.UUID) -> Connection:
    async with deps.uow(identity.brand_id) as uow:
        connection = await uow.connections.get(identity.brand_id, connection_id)
    if connection is None:
        raise ConnectionNotFound(f"no connection {connection_id} in this brand")
    return connection


async def list_connections(
    deps: Deps, identity: Identity, platform: str | None, status: str | None
) -> list[Connection]:
    async with deps.uow(identity.brand_id) as uow:
        return await uow.connections.list_for_brand(identity.brand_id, platform, status)


async def expiring(deps: Deps, identity: Identity, within_hours: float) -> list[Connection]:
    async with deps.uow(identity.brand_id) as uow:
        return await uow.connections.expiring_within(identity.brand_id, within_hours * 3600)


async def stats(deps: Deps, identity: Identity) -> dict[str, dict[str, int]]:
    """{platform: {status: count}} with every status present, zeros included."""
    async with deps.uow(identity.brand_id) as uow:
        rows = await uow.connections.stats(identity.brand_id)
    by_platform: dict[str, dict[str, int]] = {}
    for platform, status, count in rows:
        by_platform.setdefault(platform, {s.value: 0 for s in Status})[status] = count
    return by_platform


async def verify(deps: Deps, identity: Identity, connection_id: uuid.UUID) -> Connection:
    """Ask the platform whether the token still works; refresh once if it does not."""
    connection = await get(deps, identity, connection_id)
    if connection.status is not Status.CONNECTED:
        raise ConnectionNotActive(f"the connection is {connection.status.value}; connect it again")
    adapter = deps.platform(connection.platform)
    try:
        account = await adapter.get_account(deps.vault.access_token(connection) or "")
    except AuthFailure:
        refreshed = await refresh_connection(deps, identity.brand_id, connection_id)
        if refreshed.kind != "refreshed" or refreshed.access_token is None:
            if refreshed.kind == "no_refresh_token":
                async with deps.uow(identity.brand_id) as uow:
                    await mark_dead(
                        uow,
                        connection,
                        Status.EXPIRED,
                        "the platform refused the token and there is no refresh token",
                    )
            return await _answer_after_refresh(deps, identity, connection_id, refreshed.error)
        try:
            account = await adapter.get_account(refreshed.access_token)
        except AuthFailure as refused:
            async with deps.uow(identity.brand_id) as uow:
                await mark_dead(uow, connection, Status.EXPIRED, refused.platform_message or str(refused))
            return await get(deps, identity, connection_id)
        except PlatformError as failure:
            raise PlatformUnavailable(str(failure)) from None
    except PlatformError as failure:
        raise PlatformUnavailable(str(failure)) from None
    async with deps.uow(identity.brand_id) as uow:
        await uow.connections.mark_verified(connection_id, account.name)
    return await get(deps, identity, connection_id)


async def _answer_after_refresh(
    deps: Deps, identity: Identity, connection_id: uuid.UUID, error: str | None
) -> Connection:
    connection = await get(deps, identity, connection_id)
    if connection.status is Status.CONNECTED and error:
        raise PlatformUnavailable(error)
    return connection


async def refresh_now(deps: Deps, identity: Identity, connection_id: uuid.UUID) -> Connection:
    result = await refresh_connection(deps, identity.brand_id, connection_id)
    if result.kind == "not_found":
        raise ConnectionNotFound(f"no connection {connection_id} in this brand")
    if result.kind == "not_usable" and result.connection is not None:
        raise ConnectionNotActive(f"the connection is {result.connection.status.value}")
    if result.kind == "no_refresh_token":
        raise NothingToRefresh("the platform gave this connection no refresh token")
    if result.kind == "transient":
        raise PlatformUnavailable(result.error or "", retry_after_s=int(result.retry_after_s or 5))
    return await get(deps, identity, connection_id)


async def disconnect(deps: Deps, identity: Identity, connection_id: uuid.UUID) -> Connection:
    """Revoke at the platform where it offers that (best effort), forget the tokens, tell others."""
    connection = await get(deps, identity, connection_id)
    if connection.status is Status.DISCONNECTED:
        return connection
    await _revoke_at_platform(deps, connection)
    async with deps.uow(identity.brand_id) as uow:
        await uow.connections.wipe_tokens(connection_id)
        await uow.emit(
            Disconnected(
                connection_id=connection.id, platform=connection.platform, account_id=connection.account_id
            ),
            brand_id=connection.brand_id,
            tenant_id=connection.tenant_id,
            subject=str(connection.id),
        )
    return await get(deps, identity, connection_id)


async def _grant_shared(deps: Deps, connection: Connection, token: str) -> bool:
    """Whether another connection of the brand still holds this grant (the accounts of one login,
    as a LinkedIn member and their pages): revoking it would disconnect them too."""
    async with deps.uow(connection.brand_id) as uow:
        siblings = await uow.connections.list_for_brand(connection.brand_id, connection.platform, None)
    return any(
        token in (deps.vault.refresh_token(other), deps.vault.access_token(other))
        for other in siblings
        if other.id != connection.id and other.status is not Status.DISCONNECTED
    )


async def _revoke_at_platform(deps: Deps, connection: Connection) -> None:
    adapter = deps.platform(connection.platform)
    # Revoking the refresh token ends the whole grant on OAuth platforms; the access token is
    # the fallback where there is none.
    token = deps.vault.refresh_token(connection) or deps.vault.access_token(connection)
    if token is None or await _grant_shared(deps, connection, token):
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
