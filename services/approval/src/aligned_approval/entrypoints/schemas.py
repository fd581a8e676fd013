"""Request bodies of the HTTP API (validation errors become 422 naming the field)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator

from aligned_approval.domain.decisions import Decision
from aligned_approval.domain.escalation import zone
from aligned_approval.domain.policy import Mode
from aligned_approval.domain.preferences import DigestFrequency, Language, MailKind, ReminderFrequency
from aligned_common.problems import Problem

ApproverRole = Literal["owner", "admin", "editor", "approver", "client"]
WaiverRole = Literal["owner", "admin", "editor"]


def _approvers() -> list[ApproverRole]:
    return ["approver", "client"]


def _waivers() -> list[WaiverRole]:
    return ["owner", "admin"]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Decision
    comment: str | None = Field(default=None, max_length=5000)


def invalid(exc: ValidationError) -> Problem:
    """A body validated by hand (the public pages take JSON or a form): 422 naming the field."""
    errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
    return Problem(
        422,
        "Invalid request",
        detail=f"invalid fields: {', '.join(e['field'] for e in errors)}",
        errors=errors,
    )


_DECISION_SCHEMA = {
    "type": "object",
    "required": ["decision"],
    "properties": {
        "decision": {"type": "string", "enum": [d.value for d in Decision]},
        "comment": {"type": "string", "maxLength": 5000},
    },
}
DECISION_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _DECISION_SCHEMA},
            "application/x-www-form-urlencoded": {"schema": _DECISION_SCHEMA},
        },
    }
}
_UNSUBSCRIBE_SCHEMA = {"type": "object", "properties": {"scope": {"type": "string", "enum": ["kind", "all"]}}}
UNSUBSCRIBE_BODY = {
    "requestBody": {
        "required": False,
        "content": {
            "application/x-www-form-urlencoded": {"schema": _UNSUBSCRIBE_SCHEMA},
            "application/json": {"schema": _UNSUBSCRIBE_SCHEMA},
        },
    }
}


class RoundPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=5000)
    approver_users: list[str] | None = Field(default=None, max_length=100)


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recipient: EmailStr | None = None
    expires_in_hours: float | None = Field(default=None, gt=0, le=24 * 30)


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    connection_id: uuid.UUID | None = None
    user_id: str | None = Field(default=None, min_length=1)
    mode: Mode = Mode.APPROVAL_REQUIRED
    approver_roles: list[ApproverRole] = Field(default_factory=_approvers)
    approver_users: list[str] = Field(default_factory=list)
    waiver_roles: list[WaiverRole] = Field(
        default_factory=_waivers,
        description="Who may let a job this policy covers go out without approval (recorded as a waiver)",
    )


def _seed(name: str, seed_name: str):
    """The API's snake_case name, or the seed's camelCase one."""
    return Field(default=None, validation_alias=AliasChoices(name, seed_name))


class PreferencesPatch(BaseModel):
    """The fields to change; the others keep their stored (or default) values."""

    model_config = ConfigDict(extra="forbid")
    approvals_needed: bool | None = _seed("approvals_needed", "approvalsNeeded")
    approval_reminders: bool | None = _seed("approval_reminders", "approvalReminders")
    escalated: bool | None = None
    decided: bool | None = None
    publish_failures: bool | None = _seed("publish_failures", "publishFailures")
    publish_success: bool | None = _seed("publish_success", "publishSuccess")
    weekly_digest: bool | None = _seed("weekly_digest", "weeklyDigest")
    daily_digest: bool | None = _seed("daily_digest", "dailyDigest")
    reminder_frequency: ReminderFrequency | None = _seed("reminder_frequency", "reminderFrequency")
    digest_frequency: DigestFrequency | None = _seed("digest_frequency", "digestFrequency")
    max_emails_per_day: int | None = Field(
        default=None, ge=1, le=1000, validation_alias=AliasChoices("max_emails_per_day", "maxEmailsPerDay")
    )


class ClientSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    preferences: PreferencesPatch | None = None
    language: Language | None = Field(default=None, description="The language of every mail to this address")
    time_zone: str | None = None
    subscribed: bool | None = None
    unsubscribed_types: list[MailKind] | None = Field(
        default=None, description="Kinds of mail this address gets none of"
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and zone(value).key != value:
            raise ValueError(f"unknown IANA time zone {value!r}")
        return value
