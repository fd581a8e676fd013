"""Events owned by the approval service (topic aligned.approval.events)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from aligned_common.events.base import EventData


class _Decision(EventData):
    approval_id: uuid.UUID
    job_id: uuid.UUID
    round: int = Field(ge=1)
    decided_by: str = Field(description="User id, or 'link:<link id>' for a review link")
    comment: str | None = None
    content_hash: str | None = Field(
        default=None, description="Hash of the exact content the round showed (publishing's job content_hash)"
    )


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


PolicyMode = Literal["approval_required", "full_posting"]


class PolicyRules(BaseModel):
    """What a policy decides, without its scope: the before of a change, for the audit trail."""

    mode: PolicyMode
    approver_roles: list[str] = Field(default_factory=list)
    approver_users: list[str] = Field(default_factory=list)
    waiver_roles: list[str] = Field(default_factory=list)


class PolicyChanged(EventData):
    """A policy was created or replaced (PUT /v1/policies): its whole state, so a consumer's
    projection is an upsert by policy_id."""

    event_type_name = "approval.policy_changed"
    policy_id: uuid.UUID
    connection_id: uuid.UUID | None = Field(default=None, description="None: every connection of the brand")
    user_id: str | None = Field(default=None, description="None: every author")
    mode: PolicyMode
    approver_roles: list[str] = Field(default_factory=list)
    approver_users: list[str] = Field(default_factory=list)
    waiver_roles: list[str] = Field(
        default_factory=lambda: ["owner", "admin"],
        description="Roles that may waive approval of a job it covers",
    )
    changed_by: str
    previous: PolicyRules | None = Field(
        default=None, description="The scope's policy before; None: it is new"
    )


class ClientSettingsChanged(EventData):
    """A client's mail settings changed (for the audit trail): by a brand manager through the
    API (`changed_by` the user) or by the client through an unsubscribe link (`changed_by`
    "client:<e-mail>"); the settings before (None: first set) and after, as the API shows them."""

    event_type_name = "approval.client_settings_changed"
    client_id: uuid.UUID
    email: str
    changed_by: str
    before: dict[str, Any] | None = None
    after: dict[str, Any]


class EscalationRuleChanged(EventData):
    """An escalation rule was created, replaced or deleted (for the audit trail): the rule before
    (None: created) and after (None: deleted), as the API shows it."""

    event_type_name = "approval.escalation_rule_changed"
    rule_id: uuid.UUID
    changed_by: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class PolicyDeleted(EventData):
    event_type_name = "approval.policy_deleted"
    policy_id: uuid.UUID
    deleted_by: str
    previous: PolicyRules | None = Field(default=None, description="The policy that was deleted")
