"""Events owned by the approval service (topic aligned.approval.events)."""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, Field

from aligned_common.events.base import EventData


class _Decision(EventData):
    approval_id: uuid.UUID
    job_id: uuid.UUID
    round: int = Field(ge=1)
    decided_by: str = Field(description="User id, or 'link:<link id>' for a review link")
    comment: str | None = None


class Approved(_Decision):
    event_type_name = "approval.approved"


class Rejected(_Decision):
    event_type_name = "approval.rejected"


class ChangesRequested(_Decision):
    event_type_name = "approval.changes_requested"


class Escalated(EventData):
    event_type_name = "approval.escalated"
    approval_id: uuid.UUID
    job_id: uuid.UUID
    rule_id: uuid.UUID
    level: int = Field(ge=1)
    notified: list[str] = Field(default_factory=list, description="Roles or addresses notified")
    pending_since: AwareDatetime
