"""Metric sync: which accounts may be synced, asking connections, storing what it fetched.

Event handlers are `handler(uow, envelope, data)`; they run once per event id inside the
inbox's transaction, so state and emitted events commit together.
"""

from __future__ import annotations

import logging
import uuid

from aligned_analytics.adapters import accounts, brands, goals, posts, sync_logs
from aligned_analytics.adapters.metric_store import Snapshot, store_snapshots
from aligned_analytics.domain.zones import known_zone
from aligned_common.db import UnitOfWork
from aligned_common.envelope import EventEnvelope
from aligned_common.events.analytics import GoalReached, SyncRequested
from aligned_common.events.connections import (
    Connected,
    ConnectionExpired,
    ConnectionRestored,
    ConnectionRevoked,
    Disconnected,
    MetricsFailed,
    MetricsFetched,
)
from aligned_common.events.gateway import BrandCreated
from aligned_common.events.publishing import JobCreated, JobPartiallyPublished, JobPublished

log = logging.getLogger(__name__)

# The status an account takes on each connections event, and whether it is synced right away.
ACCOUNT_TRANSITIONS: dict[type, tuple[str, bool]] = {
    Connected: ("active", True),
    ConnectionRestored: ("active", True),
    ConnectionExpired: ("paused", False),  # syncs wait until connections restores the token
    ConnectionRevoked: ("revoked", False),
    Disconnected: ("disconnected", False),
}


async def on_connection_event(uow: UnitOfWork, envelope: EventEnvelope, data) -> None:
    status, sync_now = ACCOUNT_TRANSITIONS[type(data)]
    await accounts.upsert_account(
        uow.conn,
        connection_id=data.connection_id,
        brand_id=envelope.brand_id,
        tenant_id=envelope.tenant_id,
        platform=data.platform,
        account_id=data.account_id,
        account_name=getattr(data, "account_name", None),
        status=status,
        reason=getattr(data, "reason", None),
        sync_now=sync_now,
    )


async def on_metrics_fetched(uow: UnitOfWork, envelope: EventEnvelope, data: MetricsFetched) -> None:
    await sync_logs.start_sync(
        uow.conn,
        sync_id=data.sync_id,
        brand_id=envelope.brand_id,
        connection_id=data.connection_id,
        platform=data.platform,
    )
    snapshots = [Snapshot(p.remote_id or "", p.name, p.value, p.observed_at) for p in data.points]
    stored = await store_snapshots(
        uow.conn,
        brand_id=envelope.brand_id,
        connection_id=data.connection_id,
        platform=data.platform,
        sync_id=data.sync_id,
        snapshots=snapshots,
    )
    await sync_logs.finish_sync(uow.conn, data.sync_id, status="succeeded", rows=stored)
    if snapshots:
        await emit_reached_goals(uow, envelope, sorted({s.observed_at for s in snapshots}))


async def emit_reached_goals(uow: UnitOfWork, envelope: EventEnvelope, instants) -> None:
    for row in await goals.record_reached(uow.conn, envelope.brand_id, instants):
        await uow.emit(
            GoalReached(
                goal_id=row["goal_id"],
                metric=row["metric"],
                target=row["target"],
                value=row["value"],
                period_start=row["period_start"],
                period_end=row["period_end"],
            ),
            brand_id=envelope.brand_id,
            tenant_id=envelope.tenant_id,
            subject=str(row["goal_id"]),
        )


async def on_metrics_failed(uow: UnitOfWork, envelope: EventEnvelope, data: MetricsFailed) -> None:
    await sync_logs.start_sync(
        uow.conn,
        sync_id=data.sync_id,
        brand_id=envelope.brand_id,
        connection_id=data.connection_id,
        platform=data.platform,
    )
    error = data.reason + (f": {data.platform_message}" if data.platform_message else "")
    await sync_logs.finish_sync(uow.conn, data.sync_id, status="failed", error=error)


async def on_brand_created(uow: UnitOfWork, envelope: EventEnvelope, data: BrandCreated) -> None:
    """The brand's time zone: its reports, best hours, plans and goal periods follow it."""
    await brands.set_time_zone(uow.conn, envelope.brand_id, known_zone(data.time_zone))


async def on_job_created(uow: UnitOfWork, envelope: EventEnvelope, data: JobCreated) -> None:
    await posts.remember_targets(uow.conn, envelope.brand_id, data.job_id, data.targets)


async def on_job_published(
    uow: UnitOfWork, envelope: EventEnvelope, data: JobPublished | JobPartiallyPublished
) -> None:
    """Track each published post; the scheduler asks for its first sync after a short delay."""
    for target in data.targets:
        if target.status != "published" or not target.remote_id:
            continue
        connection_id = await posts.connection_for_target(
            uow.conn, envelope.brand_id, target.target_id, target.platform
        )
        if connection_id is None:
            log.warning(
                "published post with no known connection; not tracked",
                extra={"ctx_job_id": str(data.job_id), "ctx_target_id": str(target.target_id)},
            )
            continue
        await posts.add_post(
            uow.conn,
            brand_id=envelope.brand_id,
            connection_id=connection_id,
            remote_id=target.remote_id,
            platform=target.platform,
            job_id=data.job_id,
            published_at=envelope.time,
        )


async def request_sync(
    uow: UnitOfWork,
    account,
    *,
    trigger: str,
    remote_ids: list[str],
) -> uuid.UUID:
    """Open a sync log and emit analytics.sync_requested in the same transaction."""
    sync_id = uuid.uuid4()
    await sync_logs.open_sync(
        uow.conn,
        sync_id=sync_id,
        brand_id=account["brand_id"],
        connection_id=account["connection_id"],
        platform=account["platform"],
        trigger=trigger,
        remote_ids=remote_ids,
    )
    await uow.emit(
        SyncRequested(
            sync_id=sync_id,
            connection_id=account["connection_id"],
            platform=account["platform"],
            remote_ids=remote_ids,
        ),
        brand_id=account["brand_id"],
        tenant_id=account["tenant_id"],
        subject=str(sync_id),
    )
    return sync_id
