"""analytics.sync_requested -> the platform's current counts -> metrics_fetched / metrics_failed."""

from __future__ import annotations

from aligned_common.db import UnitOfWork
from aligned_common.envelope import EventEnvelope
from aligned_common.events.analytics import SyncRequested
from aligned_common.events.connections import MetricPoint, MetricsFailed, MetricsFetched
from aligned_connections.adapters import attempts_repo
from aligned_connections.adapters import connections_repo as repo
from aligned_connections.adapters.platforms import AuthFailure, NotSupported, PlatformError, Retryable
from aligned_connections.domain.connection import publish_refusal
from aligned_connections.runtime import Runtime
from aligned_connections.service_layer.tokens import refresh_connection

RECENT_POSTS = 100  # an empty remote_ids list means our most recent posts on the account


async def handle_sync_requested(rt: Runtime, uow: UnitOfWork, envelope: EventEnvelope, data: SyncRequested) -> None:
    connection = await repo.get(uow.conn, envelope.brand_id, data.connection_id)
    if connection is None or connection.platform != data.platform:
        if rt.settings.answer_unknown_connections:
            await _failed(uow, envelope, data, "connection_not_found", f"no {data.platform} connection {data.connection_id}")
        return
    refusal = publish_refusal(connection.status)
    if refusal is not None:
        await _failed(uow, envelope, data, refusal, connection.last_error)
        return
    remote_ids = data.remote_ids or await attempts_repo.published_remote_ids(uow.conn, connection.id, data.since, RECENT_POSTS)
    adapter = rt.platforms.get(connection.platform)
    token = rt.vault.access_token(connection)
    try:
        try:
            points = await adapter.fetch_metrics(token, remote_ids) if remote_ids else []
        except AuthFailure:
            refreshed = await refresh_connection(rt, connection.brand_id, connection.id)
            if refreshed.kind != "refreshed":
                await _failed(uow, envelope, data, "auth_failure", refreshed.error or "the platform refused the token")
                return
            points = await adapter.fetch_metrics(refreshed.access_token, remote_ids)
    except Retryable as failure:
        reason = "rate_limited" if failure.status_code == 429 else "retryable"
        await _failed(uow, envelope, data, reason, failure.platform_message or str(failure))
        return
    except NotSupported as failure:
        await _failed(uow, envelope, data, "not_supported", str(failure))
        return
    except PlatformError as failure:
        reason = "auth_failure" if isinstance(failure, AuthFailure) else "platform_error"
        await _failed(uow, envelope, data, reason, failure.platform_message or str(failure))
        return
    await uow.emit(
        MetricsFetched(
            sync_id=data.sync_id,
            connection_id=connection.id,
            platform=connection.platform,
            points=[
                MetricPoint(remote_id=p.remote_id, name=p.name.value, value=float(p.value), observed_at=p.observed_at)
                for p in points
            ],
        ),
        brand_id=envelope.brand_id,
        tenant_id=envelope.tenant_id,
        subject=str(data.sync_id),
    )


async def _failed(uow: UnitOfWork, envelope: EventEnvelope, data: SyncRequested, reason: str, message: str | None) -> None:
    await uow.emit(
        MetricsFailed(
            sync_id=data.sync_id, connection_id=data.connection_id, platform=data.platform, reason=reason, platform_message=message
        ),
        brand_id=envelope.brand_id,
        tenant_id=envelope.tenant_id,
        subject=str(data.sync_id),
    )
