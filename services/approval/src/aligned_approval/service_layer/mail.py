"""The mail sender's work: deliver due notifications, respecting preferences, unsubscribes,
the client's reminder frequency and daily limit (what is over it waits for the next digest)."""

from __future__ import annotations

import logging
import random
from datetime import datetime
from typing import Any, Protocol

from aligned_approval.domain.mail_rules import local_midnight, over_daily_limit, reminders_since
from aligned_approval.domain.preferences import EmailPreferences, MailKind
from aligned_approval.messages import text
from aligned_approval.service_layer.clients import unsubscribe_url
from aligned_approval.service_layer.ports import UnitOfWork, UnitsOfWork

log = logging.getLogger(__name__)


class Mailer(Protocol):
    async def send(self, to: str, subject: str, body: str, headers: dict[str, str] | None = None) -> None: ...


def retry_delay(attempts: int, base_s: float, max_s: float) -> float:
    # Exponential backoff with full jitter: a mail server coming back is not hit by every row at once.
    return random.uniform(base_s / 2, min(max_s, base_s * 2 ** min(attempts, 16)))


async def send_due(
    uows: UnitsOfWork,
    mailer: Mailer,
    *,
    secret: bytes,
    base_url: str,
    batch_size: int = 20,
    max_attempts: int = 8,
    retry_base_s: float = 5.0,
    retry_max_s: float = 900.0,
    now: datetime,
) -> int:
    """One batch; returns how many rows it settled. The rows stay locked while they are sent."""
    # worker role: one sender drains every brand's mail (ADR 0004).
    async with uows(role="worker") as uow:
        due = await uow.notifications.claim_due(batch_size)
        for row in due:
            await _deliver_one(
                uow,
                mailer,
                row,
                secret=secret,
                base_url=base_url,
                max_attempts=max_attempts,
                retry_base_s=retry_base_s,
                retry_max_s=retry_max_s,
                now=now,
            )
    return len(due)


async def _deliver_one(
    uow: UnitOfWork,
    mailer: Mailer,
    row: dict[str, Any],
    *,
    secret: bytes,
    base_url: str,
    max_attempts: int,
    retry_base_s: float,
    retry_max_s: float,
    now: datetime,
) -> None:
    brand_id, address = row["brand_id"], row["to_address"]
    created = await uow.clients.ensure(brand_id, address)
    # Locked: the count below and this send are one step for the address, whichever replica
    # sends, so two senders cannot both pass the daily limit (the digest loop takes it too).
    client = await uow.clients.get(brand_id, created["id"], lock=True)
    assert client is not None  # ensured just above
    preferences = EmailPreferences.model_validate(client["preferences"])
    kind = MailKind(row["kind"])
    if (
        client["unsubscribed_at"] is not None
        or kind.value in client["unsubscribed_types"]
        or not preferences.wants(kind)
    ):
        await uow.notifications.mark(row["id"], "suppressed")
        return
    since = reminders_since(now, client["time_zone"], preferences) if kind is MailKind.REMINDER else None
    if since is not None and await uow.notifications.sent_since(
        brand_id, address, since, (MailKind.REMINDER.value,)
    ):
        await uow.notifications.mark(
            row["id"], "suppressed", f"reminder_frequency {preferences.reminder_frequency}"
        )
        return
    sent_today = await uow.notifications.sent_since(
        brand_id,
        address,
        local_midnight(now, client["time_zone"]),
        tuple(k.value for k in MailKind if k is not MailKind.DIGEST),
    )
    if over_daily_limit(kind, sent_today, preferences):
        await uow.notifications.mark(
            row["id"], "held", f"over max_emails_per_day {preferences.max_emails_per_day}"
        )
        return
    # The link stops this kind of mail; its page also offers to stop every mail. RFC 8058:
    # the List-Unsubscribe-Post header tells the mail client a POST to the link unsubscribes.
    link = unsubscribe_url(base_url, client, secret, kind)
    language = client["language"]
    body = f"{row['body']}\n{text(language, 'mail.footer', what=text(language, f'kind.{kind.value}'), link=link)}"
    headers = {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    try:
        await mailer.send(row["to_address"], row["subject"], body, headers)
    except Exception as exc:  # any SMTP or network failure: try again later, never lose the mail silently
        error = repr(exc)[:500]
        if row["attempts"] + 1 >= max_attempts:
            await uow.notifications.mark(row["id"], "failed", error)
            log.error("mail given up", extra={"ctx_notification_id": str(row["id"]), "ctx_error": error})
        else:
            await uow.notifications.retry_later(
                row["id"], retry_delay(row["attempts"], retry_base_s, retry_max_s), error
            )
            log.warning(
                "mail failed; will retry", extra={"ctx_notification_id": str(row["id"]), "ctx_error": error}
            )
        return
    await uow.notifications.mark(row["id"], "sent")
