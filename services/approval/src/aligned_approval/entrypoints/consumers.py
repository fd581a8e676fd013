"""Event routers: the workflow consumer and the audit consumer (two consumer groups).

The audit trail has its own EventRouter (service `<name>_audit`, so its own consumer group
and its own processed_events entries): it subscribes to every aligned.*.events topic, and
neither consumer waits on the other's failures or lag. The alternative, one router whose
workflow handlers also append the audit row, would have tied every audit row to the
workflow's retries and dead letters.
"""

from __future__ import annotations

from aligned_approval.adapters import jobs
from aligned_approval.service_layer import audit, members, outcomes, rounds
from aligned_common import known_connections
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


def workflow_router(service: str, base_url: str) -> EventRouter:
    events = EventRouter(service=service)

    @events.on(JobCreated, name="on_job_created")
    async def on_job_created(uow, envelope, data: JobCreated) -> None:
        # Every job, with or without approval: a read of its rounds is then 404 only for a
        # job that is not the caller brand's (or not created yet).
        # Its text and author too: a publish outcome mail says which post and reaches its author.
        await jobs.remember(
            uow.conn, envelope.brand_id, data.job_id, content=data.content, author_id=data.author_id
        )
        await rounds.on_job_created(uow, envelope, data, base_url=base_url)

    @events.on(JobUpdated, name="on_job_updated")
    async def on_job_updated(uow, envelope, data: JobUpdated) -> None:
        await jobs.remember(uow.conn, envelope.brand_id, data.job_id, content=data.content)
        await rounds.on_job_updated(uow, envelope, data, base_url=base_url)

    events.on(JobCancelled, name="on_job_cancelled")(rounds.on_job_cancelled)
    events.on(JobPublished, JobPartiallyPublished, JobFailed, name="on_outcome")(outcomes.on_outcome)
    events.on(BrandCreated, name="on_brand_created", order_by=BY_BRAND)(members.on_brand_created)
    events.on(BrandArchived, name="on_brand_archived", order_by=BY_BRAND)(members.on_brand_archived)
    events.on(MemberAdded, name="on_member_added", order_by=BY_BRAND)(members.on_member_added)
    events.on(MemberRoleChanged, name="on_member_role_changed", order_by=BY_BRAND)(
        members.on_member_role_changed
    )
    events.on(MemberRemoved, name="on_member_removed", order_by=BY_BRAND)(members.on_member_removed)

    # Which connections a policy may name (policies.put); ordered per connection (its subject).
    async def project(uow, envelope, data) -> None:
        await known_connections.record(uow.conn, envelope, data)

    for model in known_connections.EVENTS:  # names as deployed: one per event
        events.on(model, name=f"on_{model.event_type().split('.')[1]}")(project)
    return events


def audit_router(service: str) -> EventRouter:
    events = EventRouter(service=f"{service}_audit")
    # records only: one transaction per batch
    events.on(*EVENT_TYPES.values(), name="append_event", batch=True)(audit.append_event)
    return events
