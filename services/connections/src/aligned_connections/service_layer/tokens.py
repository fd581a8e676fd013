"""Keeping a connection's tokens alive: refresh (serialised per connection), and what a refused
refresh means. Used by the scheduler, by "refresh now" and by a publish that meets a 401."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Literal

from aligned_common.events.connections import ConnectionExpired, ConnectionRevoked
from aligned_connections.adapters.platforms import AuthFailure, NotSupported, PlatformError, Retryable
from aligned_connections.domain.connection import Connection, RefreshStep, Status, refresh_backoff_s
from aligned_connections.service_layer.deps import Deps
from aligned_connections.service_layer.ports import UnitOfWork

log = logging.getLogger(__name__)

RefreshKind = Literal[
    "refreshed", "fresh", "no_refresh_token", "transient", "dead", "not_usable", "not_found"
]


@dataclass(frozen=True)
class RefreshResult:
    kind: RefreshKind
    connection: Connection | None = None
    access_token: str | None = None
    error: str | None = None
    retry_after_s: float | None = None


async def refresh_connection(
    deps: Deps, brand_id: uuid.UUID, connection_id: uuid.UUID, *, unless_valid_for_s: float | None = None
) -> RefreshResult:
    """Refresh now. `unless_valid_for_s`: skip when the token is still good that long (another
    replica refreshed it while we waited for the lock)."""
    async with deps.uow(brand_id) as uow:
        # The row lock serialises refreshes of one connection across replicas: with rotating
        # refresh tokens a second, concurrent refresh would present a dead token and look like
        # an auth failure. It is held for one token call, bounded by the platform timeouts.
        connection = await uow.connections.get(brand_id, connection_id, lock=True)
        if connection is None:
            return RefreshResult("not_found")
        step = connection.refresh_step(deps.clock.now(), unless_valid_for_s)
        if step is RefreshStep.NOT_USABLE:
            return RefreshResult("not_usable", connection)
        if step is RefreshStep.FRESH:
            return RefreshResult("fresh", connection, deps.vault.access_token(connection))
        refresh_token = deps.vault.refresh_token(connection)
        if refresh_token is None:
            return RefreshResult("no_refresh_token", connection, deps.vault.access_token(connection))
        return await _refresh_locked(deps, uow, connection, refresh_token)


async def _refresh_locked(
    deps: Deps, uow: UnitOfWork, connection: Connection, refresh_token: str
) -> RefreshResult:
    adapter = deps.platform(connection.platform)
    try:
        tokens = await adapter.refresh(refresh_token)
    except AuthFailure as refused:
        # The platform refused the refresh itself: only a new consent brings the account back.
        # (Revoked is kept for what the platform explicitly says, e.g. a deauthorization webhook.)
        await mark_dead(uow, connection, Status.EXPIRED, refused.platform_message or str(refused))
        return RefreshResult("dead", connection, error=refused.platform_message or str(refused))
    except NotSupported:
        return RefreshResult("no_refresh_token", connection, deps.vault.access_token(connection))
    except PlatformError as failure:
        # Timeouts, 5xx, 429, a garbled answer, even a 4xx that is not an auth failure: the
        # connection is not dead, only this try. Back off and keep the tokens we have.
        retry_after = failure.retry_after if isinstance(failure, Retryable) else None
        backoff = max(
            retry_after or 0.0,
            refresh_backoff_s(
                connection.refresh_failures + 1,
                deps.settings.refresh_backoff_base_s,
                deps.settings.refresh_backoff_max_s,
            ),
        )
        await uow.connections.record_transient_failure(connection.id, str(failure)[:1000], backoff)
        log.warning(
            "token refresh failed; will retry",
            extra={
                "ctx_connection_id": str(connection.id),
                "ctx_error": str(failure),
                "ctx_backoff_s": backoff,
            },
        )
        return RefreshResult("transient", connection, error=str(failure), retry_after_s=backoff)
    # The adapter carries the old refresh token forward when the platform sent none; sealing it
    # again is harmless, and the repository keeps the stored one if it is None.
    await uow.connections.store_refreshed(connection.id, deps.vault.seal_tokens(connection.id, tokens))
    return RefreshResult("refreshed", connection, tokens.access_token.get_secret_value())


async def mark_dead(uow: UnitOfWork, connection: Connection, status: Status, reason: str) -> None:
    """The platform refused us for good: record it and tell the rest of the system."""
    await uow.connections.set_status(connection.id, status, reason[:1000])
    event_type = ConnectionRevoked if status is Status.REVOKED else ConnectionExpired
    await uow.emit(
        event_type(
            connection_id=connection.id,
            platform=connection.platform,
            account_id=connection.account_id,
            reason=reason[:1000],
        ),
        brand_id=connection.brand_id,
        tenant_id=connection.tenant_id,
        subject=str(connection.id),
    )
