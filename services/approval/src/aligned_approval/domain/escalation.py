"""Escalation rules: validation, which level is due, quiet hours (no I/O).

A rule has levels: level 1 fires `levels[0].after_hours` after the round opened, level k
fires `levels[k-1].after_hours` after level k-1 ("after N hours notify; after M more
escalate"). During the brand's quiet hours nothing fires; a due level fires when they end.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

NOTIFIABLE_ROLES = ("owner", "admin", "editor", "approver", "client")


class Level(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after_hours: float = Field(
        gt=0, le=24 * 365, description="Hours after the previous level (or the round opening)"
    )
    notify_roles: list[str] = Field(default_factory=list)
    notify_addresses: list[EmailStr] = Field(default_factory=list)

    @field_validator("notify_roles")
    @classmethod
    def _known_roles(cls, roles: list[str]) -> list[str]:
        unknown = sorted(set(roles) - set(NOTIFIABLE_ROLES))
        if unknown:
            raise ValueError(f"unknown roles {unknown}; allowed: {', '.join(NOTIFIABLE_ROLES)}")
        return roles

    @model_validator(mode="after")
    def _someone_to_notify(self) -> Level:
        if not self.notify_roles and not self.notify_addresses:
            raise ValueError("a level must notify at least one role or address")
        return self


class QuietHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: time
    end: time

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours start and end must differ")
        return self

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # spans midnight, e.g. 22:00-07:00


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    enabled: bool = True
    levels: list[Level] = Field(min_length=1, max_length=10)
    quiet_hours: QuietHours | None = None


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_quiet(now: datetime, quiet: QuietHours | None, time_zone: str | None) -> bool:
    if quiet is None:
        return False
    return quiet.contains(now.astimezone(zone(time_zone)).time().replace(tzinfo=None))


def next_due_level(
    opened_at: datetime, levels: list[Level], fired_level: int, now: datetime, hour_s: float
) -> int | None:
    """The next level (1-based) whose time has come, or None."""
    if fired_level >= len(levels):
        return None
    hours_until_next = sum(level.after_hours for level in levels[: fired_level + 1])
    due_at = opened_at + timedelta(seconds=hours_until_next * hour_s)
    return fired_level + 1 if now.astimezone(UTC) >= due_at else None


def mail_kind_for(level: int) -> str:
    """The first level reminds the reviewers' side; later levels are escalations proper."""
    return "reminder" if level == 1 else "escalated"
