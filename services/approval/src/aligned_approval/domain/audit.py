"""What one domain event says for the audit trail: actor, entity, before/after (no I/O)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aligned_common.envelope import EventEnvelope

# The field naming who acted, per event type (otherwise the producing service acted).
_ACTOR_FIELDS: dict[str, str] = {
    "publishing.job_created": "author_id",
    "approval.approved": "decided_by",
    "approval.rejected": "decided_by",
    "approval.changes_requested": "decided_by",
    "analytics.plan_accepted": "accepted_by",
    "publishing.approval_waived": "waived_by",
    "approval.policy_changed": "changed_by",
    "approval.policy_deleted": "deleted_by",
    "approval.escalation_rule_changed": "changed_by",
    "approval.client_settings_changed": "changed_by",
}

# The first of these ids in the data names the entity, in this order of preference.
_ENTITY_FIELDS: tuple[tuple[str, str], ...] = (
    ("approval_id", "approval"),
    ("policy_id", "policy"),
    ("job_id", "job"),
    ("webhook_event_id", "webhook_event"),
    ("endpoint_id", "webhook_endpoint"),
    ("goal_id", "goal"),
    ("plan_id", "plan"),
    ("rule_id", "escalation_rule"),  # after approval_id: an escalation is about its round
    ("sync_id", "sync"),
    ("connection_id", "connection"),
    ("client_id", "client_settings"),
    ("user_id", "member"),
)

# Status an event moves its entity to, where the event itself says so.
_STATUS_AFTER: dict[str, tuple[str | None, str]] = {
    "approval.approved": ("pending", "approved"),
    "approval.rejected": ("pending", "rejected"),
    "approval.changes_requested": ("pending", "changes_requested"),
    "publishing.job_cancelled": (None, "cancelled"),
    "publishing.job_published": (None, "published"),
    "publishing.job_partially_published": (None, "partially_published"),
    "publishing.job_failed": (None, "failed"),
    "connections.connection_expired": (None, "expired"),
    "connections.connection_revoked": (None, "revoked"),
    "connections.connection_restored": (None, "active"),
    "connections.disconnected": (None, "disconnected"),
    "gateway.brand_archived": (None, "archived"),
}


@dataclass(frozen=True)
class AuditEntry:
    event_id: uuid.UUID
    occurred_at: datetime
    brand_id: uuid.UUID
    tenant_id: uuid.UUID
    source: str
    action: str
    actor: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    trace_id: str | None
    actor_email: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None


def entry_for(envelope: EventEnvelope) -> AuditEntry:
    data = envelope.data
    entity_type, entity_id = _entity(envelope)
    before, after = _before_after(envelope.type, data)
    return AuditEntry(
        event_id=envelope.id,
        occurred_at=envelope.time,
        brand_id=envelope.brand_id,
        tenant_id=envelope.tenant_id,
        source=envelope.source,
        action=envelope.type,
        actor=_actor(envelope),
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
        trace_id=trace_id_of(envelope.traceparent),
        actor_email=envelope.actor.email if envelope.actor else None,
        ip_address=envelope.actor.ip if envelope.actor else None,
        user_agent=envelope.actor.user_agent if envelope.actor else None,
    )


def _actor(envelope: EventEnvelope) -> str:
    """The event's own word first (a review link's decision names the link), then the user of
    the request that caused it, then the producing service."""
    field = _ACTOR_FIELDS.get(envelope.type)
    value = envelope.data.get(field) if field else None
    if not value and envelope.actor is not None:
        value = envelope.actor.user_id
    return str(value) if value else f"service:{envelope.source}"


def _entity(envelope: EventEnvelope) -> tuple[str, str]:
    for field, kind in _ENTITY_FIELDS:
        value = envelope.data.get(field)
        if value:
            return kind, str(value)
    if envelope.type.startswith("gateway.brand_"):
        return "brand", str(envelope.brand_id)
    return envelope.type.split(".", 1)[0], envelope.subject or str(envelope.brand_id)


def _before_after(
    event_type: str, data: dict[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    if event_type == "gateway.member_role_changed":
        return {"role": data.get("old_role")}, {"role": data.get("new_role")}
    if event_type == "gateway.member_added":
        return None, {"role": data.get("role"), "email": data.get("email")}
    if event_type in (
        "publishing.job_edited",
        "approval.escalation_rule_changed",
        "approval.client_settings_changed",
    ):
        return data.get("before"), data.get("after")
    if event_type == "approval.policy_changed":
        after = {k: data.get(k) for k in ("mode", "approver_roles", "approver_users", "waiver_roles")}
        return data.get("previous"), after
    if event_type == "approval.policy_deleted":
        return data.get("previous"), None
    if event_type == "publishing.job_updated":
        return None, {k: data.get(k) for k in ("status", "content", "scheduled_at")}
    if event_type == "publishing.job_created":
        return None, {
            "status": "pending_approval" if data.get("requires_approval") else "created",
            "content": data.get("content"),
            "scheduled_at": data.get("scheduled_at"),
        }
    if event_type in _STATUS_AFTER:
        status_before, status_after = _STATUS_AFTER[event_type]
        return ({"status": status_before} if status_before else None), {"status": status_after}
    return None, None


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id of a W3C traceparent (00-<trace id>-<span id>-<flags>)."""
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None
