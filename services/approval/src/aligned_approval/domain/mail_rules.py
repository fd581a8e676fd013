"""When a client's mail goes out, is held back or waits for a digest (no I/O).

Days and weeks are the client's own: local midnight in client_settings.time_zone (UTC when
none). The daily limit counts mails sent since local midnight; a digest is not counted (it is
what the held-back mails fold into) and is never held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from aligned_approval.domain.escalation import zone
from aligned_approval.domain.preferences import EmailPreferences, MailKind

CADENCES = ("daily", "weekly")


def local_midnight(now: datetime, time_zone: str | None) -> datetime:
    """The start of the client's local day, in UTC."""
    tz = zone(time_zone)
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz).astimezone(UTC)


def reminders_since(now: datetime, time_zone: str | None, preferences: EmailPreferences) -> datetime | None:
    """A reminder goes out only when none was sent to the client since this moment (None: every
    reminder goes out): their local day for "daily", the last seven days for "weekly"."""
    if preferences.reminder_frequency == "daily":
        return local_midnight(now, time_zone)
    if preferences.reminder_frequency == "weekly":
        return now.astimezone(UTC) - timedelta(days=7)
    return None


def over_daily_limit(kind: MailKind, sent_today: int, preferences: EmailPreferences) -> bool:
    return kind is not MailKind.DIGEST and sent_today >= preferences.max_emails_per_day


@dataclass(frozen=True)
class DigestPeriod:
    cadence: str  # "daily" | "weekly"
    start: date  # the local day, or the Monday of the local week


def due_digests(
    now: datetime,
    time_zone: str | None,
    preferences: EmailPreferences,
    *,
    has_held: bool,
    hour: int,
    weekday: int = 0,
    client_since: datetime | None = None,
) -> list[DigestPeriod]:
    """The digests whose local send time (`hour`, on `weekday` for the weekly one; 0 = Monday)
    has come in the current period. A period whose time has come stays due until its digest is
    sent (a stopped service catches up).

    A cadence is due when mails the daily limit held back wait for a digest of it
    (digest_frequency), or when the client chose it and was a client at its send time: one
    added on a Thursday gets the week's digest next Monday, not at once."""
    tz = zone(time_zone)
    local = now.astimezone(tz)
    today = local.date()
    monday = today - timedelta(days=today.weekday())
    send_at = {
        "daily": datetime.combine(today, time(hour), tzinfo=tz),
        "weekly": datetime.combine(monday + timedelta(days=weekday), time(hour), tzinfo=tz),
    }
    chosen = {"daily": preferences.daily_digest, "weekly": preferences.weekly_digest}
    due = []
    for cadence, start in (("daily", today), ("weekly", monday)):
        if local < send_at[cadence]:
            continue
        folds_held = has_held and preferences.digest_frequency == cadence
        was_client = client_since is None or client_since <= send_at[cadence]
        if folds_held or (chosen[cadence] and was_client):
            due.append(DigestPeriod(cadence, start))
    return due


def period_begins(period: DigestPeriod, time_zone: str | None) -> datetime:
    """Local midnight at the start of the period, in UTC: a digest lists the rounds that have
    waited since before it (newer ones had their own mail moments ago)."""
    return datetime.combine(period.start, time(0), tzinfo=zone(time_zone)).astimezone(UTC)
