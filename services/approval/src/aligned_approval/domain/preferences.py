"""Client e-mail preferences: a JSONB document read with defaults per field (no I/O)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class MailKind(StrEnum):
    APPROVAL_REQUESTED = "approval_requested"
    REMINDER = "reminder"
    ESCALATED = "escalated"
    DECIDED = "decided"


# What a person reads on an unsubscribe link and its page.
KIND_LABELS = {
    MailKind.APPROVAL_REQUESTED: "approval requests",
    MailKind.REMINDER: "approval reminders",
    MailKind.ESCALATED: "escalations",
    MailKind.DECIDED: "decision notices",
}


class EmailPreferences(BaseModel):
    """Every field has a default, so a row written before a field existed still reads."""

    model_config = ConfigDict(extra="ignore")

    approval_requested: bool = True
    reminder: bool = True
    escalated: bool = True
    decided: bool = True

    def wants(self, kind: MailKind) -> bool:
        return bool(getattr(self, kind.value))
