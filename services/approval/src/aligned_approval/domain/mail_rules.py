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
    cadence: str       # "daily" | "weekly"
    start: date        # the local day, or the Monday of the local week


def due_digests(now: datetime, time_zone: str | None, preferences: EmailPreferences, *, has_held: bool,
                hour: int, weekday: int = 0) -> list[DigestPeriod]:
    """The digests whose local send time (`hour`, on `weekday` for the weekly one; 0 = Monday)
    has come in the current period. A cadence is due when the client chose it, or when mails
    the daily limit held back wait for a digest of that cadence (digest_frequency). A period
    whose time has come stays due until its digest is sent (a stopped service catches up)."""
    local = now.astimezone(zone(time_zone))
    today = local.date()
    wanted = {
        "daily": preferences.daily_digest or (has_held and preferences.digest_frequency == "daily"),
        "weekly": preferences.weekly_digest or (has_held and preferences.digest_frequency == "weekly"),
    }
    due = []
    if wanted["daily"] and local.hour >= hour:
        due.append(DigestPeriod("daily", today))
    monday = today - timedelta(days=today.weekday())
    send_day = monday + timedelta(days=weekday)
    if wanted["weekly"] and (today > send_day or (today == send_day and local.hour >= hour)):
        due.append(DigestPeriod("weekly", monday))
    return due


def period_begins(period: DigestPeriod, time_zone: str | None) -> datetime:
    """Local midnight at the start of the period, in UTC: a digest lists the rounds that have
    waited since before it (newer ones had their own mail moments ago)."""
    return datetime.combine(period.start, time(0), tzinfo=zone(time_zone)).astimezone(UTC)
