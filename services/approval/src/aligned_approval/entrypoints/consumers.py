"""Event routers: the workflow consumer and the audit consumer (two consumer groups).

The audit trail has its own EventRouter (service `<name>_audit`, so its own consumer group
and its own processed_events entries): it subscribes to every aligned.*.events topic, and
neither consumer waits on the other's failures or lag. The alternative, one router whose
workflow handlers also append the audit row, would have tied every audit row to the
workflow's retries and dead letters.

The inbox hands each handler its open transaction (which also records the event as handled);
`joined` hands the service layer that transaction as the service's unit of work (its
repositories, aligned_common.units), so the handlers never see a connection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aligned_approval.adapters.unit_of_work import SqlUnitOfWork
from aligned_approval.service_layer import audit, inbox_escalation, members, outcomes, rounds
from aligned_approval.service_layer.deps import Deps
from aligned_approval.service_layer.ports import UnitOfWork
from aligned_common import known_connections
from aligned_common.envelope import EventEnvelope
from aligned_common.events.engagement import SlaBreached
from aligned_common.events.gateway import (
    BrandArchived,
    BrandCreated,
    MemberAdded,
    MemberRemoved,
    MemberRoleChanged,
)
from aligned_common.events.publishing import (
    JobCancelled,
    JobCreated,
    JobFailed,
    JobPartiallyPublished,
    JobPublished,
    JobUpdated,
)
from aligned_common.events.registry import EVENT_TYPES
from aligned_common.inbox import BY_BRAND, EventRouter
from aligned_common.units import joined

Handler = Callable[[UnitOfWork, EventEnvelope, Any], Awaitable[None]]


def workflow_router(service: str, deps: Deps) -> EventRouter:
    events = EventRouter(service=service)
    base_url = deps.base_url

    def on(*models: Any, name: str, **options: Any) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            events.on(*models, name=name, **options)(joined(SqlUnitOfWork, handler))
            return handler

        return register

    @on(JobCreated, name="on_job_created")
    async def on_job_created(uow: UnitOfWork, envelope: EventEnvelope, data: JobCreated) -> None:
        # Every job, with or without approval: a read of its rounds is then 404 only for a
        # job that is not the caller brand's (or not created yet).
        # Its text and author too: a publish outcome mail says which post and reaches its author.
        await uow.jobs.remember(
            envelope.brand_id, data.job_id, content=data.content, author_id=data.author_id
        )
        await rounds.on_job_created(uow, envelope, data, base_url=base_url)

    @on(JobUpdated, name="on_job_updated")
    async def on_job_updated(uow: UnitOfWork, envelope: EventEnvelope, data: JobUpdated) -> None:
        await uow.jobs.remember(envelope.brand_id, data.job_id, content=data.content)
        await rounds.on_job_updated(uow, envelope, data, base_url=base_url)

    on(JobCancelled, name="on_job_cancelled")(rounds.on_job_cancelled)
    on(JobPublished, JobPartiallyPublished, JobFailed, name="on_outcome")(outcomes.on_outcome)
    on(BrandCreated, name="on_brand_created", order_by=BY_BRAND)(members.on_brand_created)
    on(BrandArchived, name="on_brand_archived", order_by=BY_BRAND)(members.on_brand_archived)
    on(MemberAdded, name="on_member_added", order_by=BY_BRAND)(members.on_member_added)
    on(MemberRoleChanged, name="on_member_role_changed", order_by=BY_BRAND)(members.on_member_role_changed)
    on(MemberRemoved, name="on_member_removed", order_by=BY_BRAND)(members.on_member_removed)

    # Which connections a policy may name (policies.put); ordered per connection (its subject).
    async def project(uow: UnitOfWork, envelope: EventEnvelope, data: Any) -> None:
        await uow.connections.record(envelope, data)

    for model in known_connections.EVENTS:  # names as deployed: one per event
        on(model, name=f"on_{model.event_type().split('.')[1]}")(project)
    # The engagement inbox's SLA fires the brand's escalation rules (issue 25).
    on(SlaBreached, name="on_inbox_sla_breached")(inbox_escalation.on_sla_breached)
    return events


def audit_router(service: str) -> EventRouter:
    events = EventRouter(service=f"{service}_audit")
    # records only: one transaction per batch
    events.on(*EVENT_TYPES.values(), name="append_event", batch=True)(
        joined(SqlUnitOfWork, audit.append_event)
    )
    return events
