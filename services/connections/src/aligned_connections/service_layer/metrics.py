"""analytics.sync_requested -> the platform's current counts -> metrics_fetched / metrics_failed."""

from __future__ import annotations

from aligned_common.envelope import EventEnvelope
from aligned_common.events.analytics import SyncRequested
from aligned_common.events.connections import MetricPoint, MetricsFailed, MetricsFetched
from aligned_common.inbox import InboxEntry
from aligned_connections.adapters.platforms import AuthFailure, NotSupported, PlatformError, Retryable
from aligned_connections.adapters.platforms.models import MetricPoint as PlatformMetricPoint
from aligned_connections.domain.connection import Connection, publish_refusal
from aligned_connections.service_layer.deps import Deps
from aligned_connections.service_layer.ports import UnitOfWork
from aligned_connections.service_layer.tokens import refresh_connection

RECENT_POSTS = 100  # an empty remote_ids list means our most recent posts on the account


async def handle_sync_requested(
    deps: Deps, entry: InboxEntry, envelope: EventEnvelope, data: SyncRequested
) -> None:
    """No transaction is open during the platform call (the inbox route is `transaction=False`);
    the answer commits in the entry's own transaction."""
    async with deps.uow(envelope.brand_id) as uow:
        connection = await uow.connections.get(envelope.brand_id, data.connection_id)
        usable = (
            connection is not None
            and connection.platform == data.platform
            and publish_refusal(connection.status) is None
        )
        remote_ids = data.remote_ids or (
            await uow.attempts.published_remote_ids(connection.id, data.since, RECENT_POSTS)
            if connection is not None and usable
            else []
        )
    if connection is None or connection.platform != data.platform:
        if deps.settings.answer_unknown_connections:
            await _answer(
                deps,
                entry,
                envelope,
                data,
                "connection_not_found",
                f"no {data.platform} connection {data.connection_id}",
            )
        return
    refusal = publish_refusal(connection.status)
    if refusal is not None:
        await _answer(deps, entry, envelope, data, refusal, connection.last_error)
        return
    async with deps.platform_slot(connection.platform):
        fetched = await _fetch(deps, connection, remote_ids)
    if isinstance(fetched, tuple):
        await _answer(deps, entry, envelope, data, *fetched)
        return
    points = fetched
    async with deps.finish(entry) as uow:
        await uow.emit(
            MetricsFetched(
                sync_id=data.sync_id,
                connection_id=connection.id,
                platform=connection.platform,
                points=[
                    MetricPoint(
                        remote_id=p.remote_id,
                        name=p.name.value,
                        value=float(p.value),
                        observed_at=p.observed_at,
                    )
                    for p in points
                ],
            ),
            brand_id=envelope.brand_id,
            tenant_id=envelope.tenant_id,
            subject=str(data.sync_id),
        )


async def _fetch(
    deps: Deps, connection: Connection, remote_ids: list[str]
) -> list[PlatformMetricPoint] | tuple[str, str | None]:
    """The points, or (reason, message) of a failure."""
    adapter = deps.platform(connection.platform)
    token = deps.vault.access_token(connection) or ""
    try:
        try:
            return await adapter.fetch_metrics(token, remote_ids) if remote_ids else []
        except AuthFailure:
            refreshed = await refresh_connection(deps, connection.brand_id, connection.id)
            if refreshed.kind != "refreshed" or refreshed.access_token is None:
                return "auth_failure", refreshed.error or "the platform refused the token"
            return await adapter.fetch_metrics(refreshed.access_token, remote_ids)
    except Retryable as failure:
        return (
            "rate_limited" if failure.status_code == 429 else "retryable"
        ), failure.platform_message or str(failure)
    except NotSupported as failure:
        return "not_supported", str(failure)
    except PlatformError as failure:
        reason = "auth_failure" if isinstance(failure, AuthFailure) else "platform_error"
        return reason, failure.platform_message or str(failure)


async def _answer(
    deps: Deps,
    entry: InboxEntry,
    envelope: EventEnvelope,
    data: SyncRequested,
    reason: str,
    message: str | None,
) -> None:
    async with deps.finish(entry) as uow:
        await _failed(uow, envelope, data, reason, message)


async def _failed(
    uow: UnitOfWork, envelope: EventEnvelope, data: SyncRequested, reason: str, message: str | None
) -> None:
    await uow.emit(
        MetricsFailed(
            sync_id=data.sync_id,
            connection_id=data.connection_id,
            platform=data.platform,
            reason=reason,
            platform_message=message,
        ),
        brand_id=envelope.brand_id,
        tenant_id=envelope.tenant_id,
        subject=str(data.sync_id),
    )
