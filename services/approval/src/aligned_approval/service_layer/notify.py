"""Which mails a workflow step causes. The workflow only writes to the notifications table,
in its own transaction; the sender loop delivers later, so a mail server outage never blocks it."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from aligned_approval.adapters import approvals, notifications
from aligned_approval.domain.preferences import MailKind


def approval_url(base_url: str, approval_id: uuid.UUID) -> str:
    """The round in the public API, through the gateway (a member opens it signed in)."""
    return f"{base_url.rstrip('/')}/v1/approvals/{approval_id}"


async def _enqueue_each(conn: asyncpg.Connection, round_: dict[str, Any], kind: MailKind, addresses: list[str],
                        subject: str, body: str, dedupe: str) -> None:
    for address in sorted({a.lower() for a in addresses}):
        await notifications.enqueue(
            conn, round_["brand_id"], kind=kind.value, to_address=address, subject=subject, body=body,
            approval_id=round_["id"], dedupe_key=f"{kind.value}:{round_['id']}:{dedupe}:{address}",
        )


async def approval_requested(conn: asyncpg.Connection, round_: dict[str, Any], base_url: str) -> None:
    addresses = await approvals.reviewer_emails(
        conn, round_["brand_id"], roles=round_["approver_roles"], users=round_["approver_users"]
    )
    subject = f"Approval requested (round {round_['round']})"
    body = f"A post is waiting for your approval:\n\n{round_['content']}\n\nReview it: {approval_url(base_url, round_['id'])}\n"
    await _enqueue_each(conn, round_, MailKind.APPROVAL_REQUESTED, addresses, subject, body, "open")


async def review_link(conn: asyncpg.Connection, round_: dict[str, Any], address: str, url: str, link_id: uuid.UUID) -> None:
    subject = f"Please review a post (round {round_['round']})"
    body = f"A post is waiting for your approval:\n\n{round_['content']}\n\nReview it here (single use): {url}\n"
    await _enqueue_each(conn, round_, MailKind.APPROVAL_REQUESTED, [address], subject, body, f"link:{link_id}")


async def decided(conn: asyncpg.Connection, round_: dict[str, Any], base_url: str) -> None:
    addresses = await approvals.reviewer_emails(conn, round_["brand_id"], roles=[], users=[round_["author_id"]])
    comment = f"\nComment: {round_['decision_comment']}\n" if round_["decision_comment"] else ""
    subject = f"Your post was {round_['status'].replace('_', ' ')}"
    body = (f"Round {round_['round']} of your post was {round_['status'].replace('_', ' ')} "
            f"by {round_['decided_by']}.\n{comment}\n{approval_url(base_url, round_['id'])}\n")
    await _enqueue_each(conn, round_, MailKind.DECIDED, addresses, subject, body, "decided")


async def escalation(conn: asyncpg.Connection, round_: dict[str, Any], kind: MailKind, level: int,
                     roles: list[str], addresses: list[str], base_url: str) -> list[str]:
    """Mails the level's roles and addresses; returns who was notified."""
    role_addresses = await approvals.reviewer_emails(conn, round_["brand_id"], roles=roles, users=[])
    everyone = sorted({a.lower() for a in [*role_addresses, *addresses]})
    word = "Reminder" if kind is MailKind.REMINDER else f"Escalation (level {level})"
    subject = f"{word}: a post is still waiting for approval"
    body = f"This post has been waiting for approval since {round_['opened_at']:%Y-%m-%d %H:%M} UTC.\n\n" \
           f"{approval_url(base_url, round_['id'])}\n"
    await _enqueue_each(conn, round_, kind, everyone, subject, body, f"level{level}")
    return everyone
