"""Events owned by the gateway's identity side (topic aligned.gateway.events)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from aligned_common.events.base import EventData

Role = Literal["owner", "admin", "editor", "approver", "client", "viewer"]


class BrandCreated(EventData):
    event_type_name = "gateway.brand_created"
    name: str
    time_zone: str = "UTC"


class BrandArchived(EventData):
    event_type_name = "gateway.brand_archived"


class MemberAdded(EventData):
    event_type_name = "gateway.member_added"
    user_id: str
    email: str
    role: Role


class MemberRoleChanged(EventData):
    event_type_name = "gateway.member_role_changed"
    user_id: str
    old_role: Role
    new_role: Role


class MemberRemoved(EventData):
    event_type_name = "gateway.member_removed"
    user_id: str
    member_id: uuid.UUID | None = None


class MemberInvited(EventData):
    """An invite was sent; the single-use token itself never leaves the gateway's response."""

    event_type_name = "gateway.member_invited"
    invite_id: uuid.UUID
    email: str
    role: Role
    invited_by: str
    expires_at: datetime
