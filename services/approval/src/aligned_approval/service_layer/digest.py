"""The digest loop's work: each client's daily and weekly digest at a fixed local hour.

A digest lists the mails the daily limit held back (in full: nothing is lost) and the rounds
still waiting for the client since before the period began. It is claimed in `digests`
(client, cadence, local period) in the transaction that queues it, with the client's settings
row locked: two replicas, a restart or a redelivered tick send one digest per period. A
period with nothing to tell is not claimed, so a mail held later that day still gets it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from aligned_approval.domain.mail_rules import DigestPeriod, due_digests, period_begins
from aligned_approval.domain.preferences import EmailPreferences, MailKind
from aligned_approval.messages import text
from aligned_approval.service_layer.notify import approval_url
from aligned_approval.service_layer.ports import UnitsOfWork

log = logging.getLogger(__name__)


async def tick(
    uows: UnitsOfWork,
    *,
    hour: int,
    weekday: int = 0,
    base_url: str = "",
    now: datetime,
) -> int:
    """One pass over every brand's clients; returns how many digests this replica queued."""
    # worker role: one loop looks at every brand's clients (ADR 0004).
    async with uows(role="worker") as uow:
        candidates = await uow.clients.digest_candidates()
    queued = 0
    for client in candidates:
        preferences = EmailPreferences.model_validate(client["preferences"])
        for period in due_digests(
            now,
            client["time_zone"],
            preferences,
            has_held=client["has_held"],
            hour=hour,
            weekday=weekday,
            client_since=client["created_at"],
        ):
            queued += await _queue(uows, client, period, base_url)
    return queued


async def _queue(uows: UnitsOfWork, candidate: dict[str, Any], period: DigestPeriod, base_url: str) -> int:
    brand_id = candidate["brand_id"]
    async with uows(brand_id=brand_id) as uow:
        client = await uow.clients.get(brand_id, candidate["id"], lock=True)
        assert client is not None  # a candidate's settings are never deleted
        if await uow.clients.digest_claimed(client["id"], period.cadence, period.start):
            return 0
        held = await uow.notifications.held(brand_id, client["email"])
        waiting = [
            r
            for r in await uow.notifications.pending_requests(brand_id, client["email"])
            if r["opened_at"] < period_begins(period, client["time_zone"])
        ]
        if not held and not waiting:
            return 0
        subject, body = render(client, period, held, waiting, base_url)
        digest_id = await uow.notifications.enqueue(
            brand_id,
            kind=MailKind.DIGEST.value,
            to_address=client["email"],
            subject=subject,
            body=body,
            approval_id=None,
            dedupe_key=f"digest:{client['id']}:{period.cadence}:{period.start}",
        )
        if digest_id is None or not await uow.clients.claim_digest(
            brand_id, client["id"], period.cadence, period.start, digest_id
        ):
            return 0
        await uow.notifications.fold([m["id"] for m in held], digest_id)
    log.info(
        "digest queued",
        extra={
            "ctx_client_id": str(client["id"]),
            "ctx_cadence": period.cadence,
            "ctx_held": len(held),
            "ctx_waiting": len(waiting),
        },
    )
    return 1


def render(
    client: dict[str, Any],
    period: DigestPeriod,
    held: list[dict[str, Any]],
    waiting: list[dict[str, Any]],
    base_url: str,
) -> tuple[str, str]:
    """Subject and body in the client's language."""
    lang = client["language"]
    limit = EmailPreferences.model_validate(client["preferences"]).max_emails_per_day
    subject = text(lang, f"mail.digest.{period.cadence}.subject", date=period.start.isoformat())
    parts = [text(lang, "mail.digest.intro")]
    if waiting:
        lines = [f"- {_first_line(r['content'])}: {approval_url(base_url, r['id'])}" for r in waiting]
        parts.append("\n".join([text(lang, "mail.digest.pending", count=len(waiting)), *lines]))
    if held:
        mails = [f"== {m['subject']}\n{m['body'].rstrip()}" for m in held]
        parts.append("\n\n".join([text(lang, "mail.digest.held", limit=limit, count=len(held)), *mails]))
    return subject, "\n\n".join(parts) + "\n"


def _first_line(content: str, width: int = 80) -> str:
    line = (content or "").strip().splitlines()[0] if (content or "").strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"
