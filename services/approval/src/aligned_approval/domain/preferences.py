"""Client e-mail preferences: a JSONB document read with defaults per field (no I/O).

The fields and defaults are the seed's (approvalsNeeded ... maxEmailsPerDay = 20), spelled in
snake_case like the rest of the API; the seed's camelCase names are accepted on input.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal, get_args

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class MailKind(StrEnum):
    APPROVAL_REQUESTED = "approval_requested"
    REMINDER = "reminder"
    ESCALATED = "escalated"
    DECIDED = "decided"
    PUBLISH_FAILED = "publish_failed"
    PUBLISH_SUCCEEDED = "publish_succeeded"
    DIGEST = "digest"


Language = Literal["en", "de"]  # one message catalogue each (aligned_approval/locales)
LANGUAGES = get_args(Language)
ReminderFrequency = Literal["every", "daily", "weekly"]
DigestFrequency = Literal["daily", "weekly"]

# Which preference switches a kind of mail on or off. A digest is wanted when either digest
# is chosen or when it carries mails the daily limit held back (see digest.py).
_SWITCH = {
    MailKind.APPROVAL_REQUESTED: "approvals_needed",
    MailKind.REMINDER: "approval_reminders",
    MailKind.ESCALATED: "escalated",
    MailKind.DECIDED: "decided",
    MailKind.PUBLISH_FAILED: "publish_failures",
    MailKind.PUBLISH_SUCCEEDED: "publish_success",
}


def _field(default: Any, seed_name: str, name: str, **kwargs: Any) -> Any:
    return Field(default, validation_alias=AliasChoices(name, seed_name), **kwargs)


class EmailPreferences(BaseModel):
    """Every field has a default, so a row written before a field existed still reads."""

    model_config = ConfigDict(extra="ignore")

    approvals_needed: bool = _field(True, "approvalsNeeded", "approvals_needed")
    approval_reminders: bool = _field(True, "approvalReminders", "approval_reminders")
    escalated: bool = True
    decided: bool = True
    publish_failures: bool = _field(True, "publishFailures", "publish_failures")
    publish_success: bool = _field(False, "publishSuccess", "publish_success")
    weekly_digest: bool = _field(True, "weeklyDigest", "weekly_digest")
    daily_digest: bool = _field(False, "dailyDigest", "daily_digest")
    # How often a client is reminded of one waiting round: every reminder an escalation rule
    # fires, or at most one a (local) day or week.
    reminder_frequency: ReminderFrequency = _field("daily", "reminderFrequency", "reminder_frequency")
    # Which digest carries the mails the daily limit held back, when the client takes no digest
    # of that cadence otherwise: the next morning's, or the next week's.
    digest_frequency: DigestFrequency = _field("daily", "digestFrequency", "digest_frequency")
    max_emails_per_day: int = _field(20, "maxEmailsPerDay", "max_emails_per_day", ge=1, le=1000)

    def wants(self, kind: MailKind) -> bool:
        switch = _SWITCH.get(kind)
        return True if switch is None else bool(getattr(self, switch))
