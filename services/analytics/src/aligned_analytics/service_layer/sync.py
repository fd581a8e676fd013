"""Metric sync: which accounts may be synced, asking connections, storing what it fetched.

Event handlers are `handler(uow, envelope, data)`; they run once per event id inside the
inbox's transaction, so state and emitted events commit together.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from aligned_analytics.domain.metrics import Snapshot
from aligned_analytics.domain.zones import known_zone
from aligned_analytics.service_layer.ports import Row, UnitOfWork
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

ConnectionEvent = Connected | ConnectionExpired | ConnectionRestored | ConnectionRevoked | Disconnected

# The status an account takes on each connections event, and whether it is synced right away.
ACCOUNT_TRANSITIONS: dict[type, tuple[str, bool]] = {
    Connected: ("active", True),
    ConnectionRestored: ("active", True),
    ConnectionExpired: ("paused", False),  # syncs wait until connections restores the token
    ConnectionRevoked: ("revoked", False),
    Disconnected: ("disconnected", False),
}


async def on_connection_event(uow: UnitOfWork, envelope: EventEnvelope, data: ConnectionEvent) -> None:
    status, sync_now = ACCOUNT_TRANSITIONS[type(data)]
    await uow.accounts.upsert_account(
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
    await uow.syncs.start_sync(
        sync_id=data.sync_id,
        brand_id=envelope.brand_id,
        connection_id=data.connection_id,
        platform=data.platform,
    )
    snapshots = [Snapshot(p.remote_id or "", p.name, p.value, p.observed_at) for p in data.points]
    stored = await uow.metrics.store_snapshots(
        brand_id=envelope.brand_id,
        connection_id=data.connection_id,
        platform=data.platform,
        sync_id=data.sync_id,
        snapshots=snapshots,
    )
    await uow.syncs.finish_sync(data.sync_id, status="succeeded", rows=stored)
    if snapshots:
        await emit_reached_goals(uow, envelope, sorted({s.observed_at for s in snapshots}))


async def emit_reached_goals(uow: UnitOfWork, envelope: EventEnvelope, instants: list[datetime]) -> None:
    for row in await uow.goals.record_reached(envelope.brand_id, instants):
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
    await uow.syncs.start_sync(
        sync_id=data.sync_id,
        brand_id=envelope.brand_id,
        connection_id=data.connection_id,
        platform=data.platform,
    )
    error = data.reason + (f": {data.platform_message}" if data.platform_message else "")
    await uow.syncs.finish_sync(data.sync_id, status="failed", error=error)


async def on_brand_created(uow: UnitOfWork, envelope: EventEnvelope, data: BrandCreated) -> None:
    """The brand's time zone: its reports, best hours, plans and goal periods follow it."""
    await uow.brands.set_time_zone(envelope.brand_id, known_zone(data.time_zone))


async def on_job_created(uow: UnitOfWork, envelope: EventEnvelope, data: JobCreated) -> None:
    # What each target posts: its own variant, else the job's text and media (the report's previews).
    targets = [
        t.model_copy(update={"text": t.text or data.content, "media_ids": t.media_ids or data.media_ids})
        for t in data.targets
    ]
    await uow.posts.remember_targets(envelope.brand_id, data.job_id, targets)


async def on_job_published(
    uow: UnitOfWork, envelope: EventEnvelope, data: JobPublished | JobPartiallyPublished
) -> None:
    """Track each published post; the scheduler asks for its first sync after a short delay."""
    for target in data.targets:
        if target.status != "published" or not target.remote_id:
            continue
        connection_id = await uow.posts.connection_for_target(
            envelope.brand_id, target.target_id, target.platform
        )
        if connection_id is None:
            log.warning(
                "published post with no known connection; not tracked",
                extra={"ctx_job_id": str(data.job_id), "ctx_target_id": str(target.target_id)},
            )
            continue
        await uow.posts.add_post(
            brand_id=envelope.brand_id,
            connection_id=connection_id,
            remote_id=target.remote_id,
            platform=target.platform,
            job_id=data.job_id,
            published_at=envelope.time,
        )


async def request_sync(
    uow: UnitOfWork,
    account: Row,
    *,
    trigger: str,
    remote_ids: list[str],
) -> uuid.UUID:
    """Open a sync log and emit analytics.sync_requested in the same transaction."""
    sync_id = uuid.uuid4()
    await uow.syncs.open_sync(
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
