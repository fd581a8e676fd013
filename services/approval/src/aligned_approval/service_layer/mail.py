"""The mail sender's work: deliver due notifications, respecting preferences and unsubscribes."""

from __future__ import annotations

import logging
import random
from typing import Any, Protocol

import asyncpg

from aligned_common.db import UnitOfWork

from aligned_approval.adapters import client_settings, notifications
from aligned_approval.domain.preferences import KIND_LABELS, EmailPreferences, MailKind
from aligned_approval.service_layer.clients import unsubscribe_url

log = logging.getLogger(__name__)


class Mailer(Protocol):
    async def send(self, to: str, subject: str, body: str, headers: dict[str, str] | None = None) -> None: ...


def retry_delay(attempts: int, base_s: float, max_s: float) -> float:
    # Exponential backoff with full jitter: a mail server coming back is not hit by every row at once.
    return random.uniform(base_s / 2, min(max_s, base_s * 2 ** min(attempts, 16)))


async def send_due(pool: asyncpg.Pool, schema: str, mailer: Mailer, *, secret: bytes, base_url: str,
                   batch_size: int = 20, max_attempts: int = 8, retry_base_s: float = 5.0,
                   retry_max_s: float = 900.0) -> int:
    """One batch; returns how many rows it settled. The rows stay locked while they are sent."""
    # worker role: one sender drains every brand's mail (ADR 0004).
    async with UnitOfWork(pool, schema, role="worker") as uow:
        due = await notifications.claim_due(uow.conn, batch_size)
        for row in due:
            await _deliver_one(uow.conn, mailer, row, secret=secret, base_url=base_url, max_attempts=max_attempts,
                               retry_base_s=retry_base_s, retry_max_s=retry_max_s)
    return len(due)


async def _deliver_one(conn: asyncpg.Connection, mailer: Mailer, row: dict[str, Any], *, secret: bytes, base_url: str,
                       max_attempts: int, retry_base_s: float, retry_max_s: float) -> None:
    client = await client_settings.ensure(conn, row["brand_id"], row["to_address"])
    preferences = EmailPreferences.model_validate(client["preferences"])
    kind = MailKind(row["kind"])
    if client["unsubscribed_at"] is not None or kind.value in client["unsubscribed_types"] or not preferences.wants(kind):
        await notifications.mark(conn, row["id"], "suppressed")
        return
    # The link stops this kind of mail; its page also offers to stop every mail. RFC 8058:
    # the List-Unsubscribe-Post header tells the mail client a POST to the link unsubscribes.
    link = unsubscribe_url(base_url, client, secret, kind)
    body = (f"{row['body']}\n--\nYou get this because of your e-mail settings.\n"
            f"Stop {KIND_LABELS[kind]}: {link}\n")
    headers = {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    try:
        await mailer.send(row["to_address"], row["subject"], body, headers)
    except Exception as exc:  # any SMTP or network failure: try again later, never lose the mail silently
        error = repr(exc)[:500]
        if row["attempts"] + 1 >= max_attempts:
            await notifications.mark(conn, row["id"], "failed", error)
            log.error("mail given up", extra={"ctx_notification_id": str(row["id"]), "ctx_error": error})
        else:
            await notifications.retry_later(conn, row["id"], retry_delay(row["attempts"], retry_base_s, retry_max_s), error)
            log.warning("mail failed; will retry", extra={"ctx_notification_id": str(row["id"]), "ctx_error": error})
        return
    await notifications.mark(conn, row["id"], "sent")
