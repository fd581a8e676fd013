"""Request bodies of the HTTP API (validation errors become 422 naming the field)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from aligned_approval.domain.decisions import Decision
from aligned_approval.domain.escalation import zone
from aligned_approval.domain.policy import Mode

ApproverRole = Literal["owner", "admin", "editor", "approver", "client"]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Decision
    comment: str | None = Field(default=None, max_length=5000)


class RoundPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=5000)
    approver_users: list[str] | None = None


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recipient: EmailStr | None = None
    expires_in_hours: float | None = Field(default=None, gt=0, le=24 * 30)


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    connection_id: uuid.UUID | None = None
    user_id: str | None = Field(default=None, min_length=1)
    mode: Mode = Mode.APPROVAL_REQUIRED
    approver_roles: list[ApproverRole] = Field(default_factory=lambda: ["approver", "client"])
    approver_users: list[str] = Field(default_factory=list)
    waiver_roles: list[Literal["owner", "admin", "editor"]] = Field(
        default_factory=lambda: ["owner", "admin"],
        description="Who may let a job this policy covers go out without approval (recorded as a waiver)",
    )


class PreferencesPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approval_requested: bool | None = None
    reminder: bool | None = None
    escalated: bool | None = None
    decided: bool | None = None


class ClientSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    preferences: PreferencesPatch | None = None
    time_zone: str | None = None
    subscribed: bool | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and zone(value).key != value:
            raise ValueError(f"unknown IANA time zone {value!r}")
        return value
