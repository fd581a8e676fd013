"""Events owned by the analytics service (topic aligned.analytics.events)."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import AwareDatetime, BaseModel, Field

from aligned_common.events.base import EventData


class SyncRequested(EventData):
    event_type_name = "analytics.sync_requested"
    sync_id: uuid.UUID
    connection_id: uuid.UUID
    platform: str
    remote_ids: list[str] = Field(default_factory=list, description="Empty: the account's recent posts")
    since: AwareDatetime | None = None


class GoalReached(EventData):
    event_type_name = "analytics.goal_reached"
    goal_id: uuid.UUID
    metric: str
    target: float
    value: float
    period_start: date
    period_end: date


class PlannedSlot(BaseModel):
    platform: str
    connection_id: uuid.UUID | None = None
    at: AwareDatetime


class PlanAccepted(EventData):
    event_type_name = "analytics.plan_accepted"
    plan_id: uuid.UUID
    accepted_by: str
    slots: list[PlannedSlot]
    time_zone: str = Field(default="UTC", description="The brand's IANA zone the slots were planned in")
