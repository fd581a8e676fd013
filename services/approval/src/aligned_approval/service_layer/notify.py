"""Which mails a workflow step causes. The workflow only writes to the notifications table,
in its own transaction; the sender loop delivers later, so a mail server outage never blocks it.
Each mail is written in its recipient's language (client_settings.language), from the catalogues."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from aligned_approval.domain.preferences import MailKind
from aligned_approval.messages import text
from aligned_approval.service_layer.ports import UnitOfWork

# (language) -> (subject, body): a mail is rendered once per recipient, in their language.
Render = Callable[[str], tuple[str, str]]


def approval_url(base_url: str, approval_id: uuid.UUID) -> str:
    """The round in the public API, through the gateway (a member opens it signed in)."""
    return f"{base_url.rstrip('/')}/v1/approvals/{approval_id}"


async def enqueue_each(
    uow: UnitOfWork,
    brand_id: uuid.UUID,
    kind: MailKind,
    addresses: list[str],
    render: Render,
    dedupe: str,
    *,
    approval_id: uuid.UUID | None = None,
    job_id: uuid.UUID | None = None,
) -> None:
    for address in sorted({a.lower() for a in addresses}):
        client = await uow.clients.ensure(brand_id, address)
        subject, body = render(client["language"])
        await uow.notifications.enqueue(
            brand_id,
            kind=kind.value,
            to_address=address,
            subject=subject,
            body=body,
            approval_id=approval_id,
            job_id=job_id,
            dedupe_key=f"{kind.value}:{dedupe}:{address}",
        )


async def _enqueue_round(
    uow: UnitOfWork,
    round_: dict[str, Any],
    kind: MailKind,
    addresses: list[str],
    render: Render,
    dedupe: str,
) -> None:
    await enqueue_each(
        uow,
        round_["brand_id"],
        kind,
        addresses,
        render,
        f"{round_['id']}:{dedupe}",
        approval_id=round_["id"],
    )


async def approval_requested(uow: UnitOfWork, round_: dict[str, Any], base_url: str) -> None:
    addresses = await uow.members.reviewer_emails(
        round_["brand_id"], roles=round_["approver_roles"], users=round_["approver_users"]
    )
    fields = {
        "round": round_["round"],
        "content": round_["content"],
        "url": approval_url(base_url, round_["id"]),
    }
    await _enqueue_round(
        uow,
        round_,
        MailKind.APPROVAL_REQUESTED,
        addresses,
        lambda lang: (
            text(lang, "mail.approval_requested.subject", **fields),
            text(lang, "mail.approval_requested.body", **fields),
        ),
        "open",
    )


async def review_link(
    uow: UnitOfWork, round_: dict[str, Any], address: str, url: str, link_id: uuid.UUID
) -> None:
    fields = {"round": round_["round"], "content": round_["content"], "url": url}
    await _enqueue_round(
        uow,
        round_,
        MailKind.APPROVAL_REQUESTED,
        [address],
        lambda lang: (
            text(lang, "mail.review_link.subject", **fields),
            text(lang, "mail.review_link.body", **fields),
        ),
        f"link:{link_id}",
    )


async def decided(uow: UnitOfWork, round_: dict[str, Any], base_url: str) -> None:
    addresses = await uow.members.reviewer_emails(round_["brand_id"], roles=[], users=[round_["author_id"]])

    def render(lang: str) -> tuple[str, str]:
        status = text(lang, f"status.{round_['status']}")
        comment = (
            text(lang, "mail.decided.comment", comment=round_["decision_comment"])
            if round_["decision_comment"]
            else ""
        )
        return text(lang, "mail.decided.subject", status=status), text(
            lang,
            "mail.decided.body",
            round=round_["round"],
            status=status,
            who=round_["decided_by"],
            comment=comment,
            url=approval_url(base_url, round_["id"]),
        )

    await _enqueue_round(uow, round_, MailKind.DECIDED, addresses, render, "decided")


async def escalation(
    uow: UnitOfWork,
    round_: dict[str, Any],
    kind: MailKind,
    level: int,
    roles: list[str],
    addresses: list[str],
    base_url: str,
) -> list[str]:
    """Mails the level's roles and addresses; returns who was notified."""
    role_addresses = await uow.members.reviewer_emails(round_["brand_id"], roles=roles, users=[])
    everyone = sorted({a.lower() for a in [*role_addresses, *addresses]})
    subject_key = "mail.reminder.subject" if kind is MailKind.REMINDER else "mail.escalated.subject"
    await _enqueue_round(
        uow,
        round_,
        kind,
        everyone,
        lambda lang: (
            text(lang, subject_key, level=level),
            text(
                lang,
                "mail.waiting.body",
                since=f"{round_['opened_at']:%Y-%m-%d %H:%M}",
                url=approval_url(base_url, round_["id"]),
            ),
        ),
        f"level{level}",
    )
    return everyone
