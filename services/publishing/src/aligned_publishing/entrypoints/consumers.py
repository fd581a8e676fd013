"""Events in: approval decisions and policies, connections' answers and connection states.
Each handler only translates: the inbox's transaction becomes publishing's unit of work (what
the handler writes commits with the inbox row), and the service layer decides."""

from __future__ import annotations

from typing import Any

from aligned_common.db import UnitOfWork as Transaction
from aligned_common.envelope import EventEnvelope
from aligned_common.events.analytics import PlanAccepted
from aligned_common.events.approval import Approved, ChangesRequested, PolicyChanged, PolicyDeleted, Rejected
from aligned_common.events.brandkit import KitVersionPublished
from aligned_common.events.connections import (
    Connected,
    ConnectionExpired,
    ConnectionRestored,
    ConnectionRevoked,
    Disconnected,
    PostFailed,
    PostPublished,
)
from aligned_common.inbox import BY_BRAND, EventRouter, by_field
from aligned_publishing.adapters.unit_of_work import SqlUnitOfWork
from aligned_publishing.service_layer import approvals, holds, jobs, outcomes
from aligned_publishing.service_layer.deps import Deps


def build_router(deps: Deps, service: str = "publishing") -> EventRouter:
    events = EventRouter(service=service)
    # Ordering (docs/architecture.md): a decision's subject is its round, but it acts on the job,
    # so decisions are ordered per job like the job's outcomes; a connection event holds or
    # releases targets of many jobs, so it is ordered against all of its brand's events.
    per_job = by_field("job_id")
    # `data` is the event class each route names (EventRouter hands handlers EventData).

    @events.on(Approved, order_by=per_job, name="on_approved")
    async def on_approved(tx: Transaction, envelope: EventEnvelope, data: Any) -> None:
        await approvals.on_approved(SqlUnitOfWork.joined(tx), deps, data)

    @events.on(Rejected, order_by=per_job, name="on_rejected")
    async def on_rejected(tx: Transaction, envelope: EventEnvelope, data: Any) -> None:
        await approvals.on_sent_back(SqlUnitOfWork.joined(tx), deps, data)

    @events.on(ChangesRequested, order_by=per_job, name="on_changes_requested")
    async def on_changes_requested(tx: Transaction, envelope: EventEnvelope, data: Any) -> None:
        await approvals.on_sent_back(SqlUnitOfWork.joined(tx), deps, data)

    @events.on(KitVersionPublished, order_by=BY_BRAND, name="on_brand_kit_published")
    async def on_brand_kit_published(tx: Transaction, envelope: EventEnvelope, data: Any) -> None:
        # Our copy of the kit's rules, which every job command checks texts against; a version
        # older than ours (late, redelivered) changes nothing. Drafts are checked again on submit.
        await SqlUnitOfWork.joined(tx).guardrails.record(
            envelope.brand_id, data.kit_version, data.kit.rules(), envelope.time
        )

    @events.on(PolicyChanged, name="on_policy_changed")
    async def on_policy_changed(tx: Transaction, envelope: EventEnvelope, data: Any) -> None:
        await approvals.on_policy_changed(SqlUnitOfWork.joined(tx), deps, envelope, data)

    @events.on(PolicyDeleted, name="on_policy_deleted")
    async def on_policy_deleted(tx: Transaction, envelope: EventEnvelope, data: Any) -> None:
        await approvals.on_policy_deleted(SqlUnitOfWork.joined(tx), deps, envelope, data)

    @events.on(Connected, name="on_connected")
    async def on_connected(tx: Transaction, envelope: EventEnvelope, data: Any) -> None:
        await holds.on_connected(SqlUnitOfWork.joined(tx), deps, envelope, data)

    @events.on(PostPublished, name="on_post_published")
    async def on_post_published(tx: Transaction, envelope: EventEnvelope, data: Any) -> None:
        await outcomes.on_post_published(SqlUnitOfWork.joined(tx), deps, data)

    @events.on(PostFailed, name="on_post_failed")
    async def on_post_failed(tx: Transaction, envelope: EventEnvelope, data: Any) -> None:
        await outcomes.on_post_failed(SqlUnitOfWork.joined(tx), deps, data)

    async def on_connection_broken(tx: Transaction, envelope: EventEnvelope, data: Any) -> None:
        await holds.on_connection_broken(SqlUnitOfWork.joined(tx), deps, envelope, data)

    for broken in (ConnectionExpired, ConnectionRevoked, Disconnected):  # names as deployed: one per event
        events.on(broken, name=f"on_{broken.event_type().split('.')[1]}", order_by=BY_BRAND)(
            on_connection_broken
        )

    @events.on(PlanAccepted, name="on_plan_accepted")  # subject = the plan
    async def on_plan_accepted(tx: Transaction, envelope: EventEnvelope, data: Any) -> None:
        await jobs.create_plan_drafts(SqlUnitOfWork.joined(tx), deps, envelope, data)

    @events.on(ConnectionRestored, order_by=BY_BRAND, name="on_connection_restored")
    async def on_connection_restored(tx: Transaction, envelope: EventEnvelope, data: Any) -> None:
        await holds.on_connection_restored(SqlUnitOfWork.joined(tx), deps, envelope, data)

    return events
