"""Review links: signed, expiring, revocable, single-use links for clients without an account."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from aligned_approval.domain import tokens
from aligned_approval.domain.decisions import Decision, Status, link_actor, locked, may_decide
from aligned_approval.domain.errors import Forbidden, Gone, Invalid, NotFound, require_role
from aligned_approval.domain.preview import per_platform
from aligned_approval.service_layer import notify
from aligned_approval.service_layer.decisions import apply_decision, not_found
from aligned_approval.service_layer.ports import UnitsOfWork
from aligned_common.identity import Identity

PURPOSE = "review-link"


def link_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/review/{token}"


async def create_link(
    uows: UnitsOfWork,
    identity: Identity,
    approval_id: uuid.UUID,
    *,
    recipient: str | None,
    expires_in_hours: float,
    secret: bytes,
    base_url: str,
    now: datetime,
) -> dict[str, Any]:
    require_role(identity, "owner", "admin", "editor", "approver")
    async with uows(brand_id=identity.brand_id) as uow:
        round_ = await uow.rounds.get_round(identity.brand_id, approval_id, lock=True)
        if round_ is None:
            raise not_found(approval_id)
        if round_["status"] != Status.PENDING:
            raise locked(round_)
        # A link decides its round as whoever holds it, so the round's approver rules apply to
        # who gets it: the caller sees the token only if they may decide this round anyway (an
        # editor who could would approve their own post); a recipient who is a member of the
        # brand must be one of the round's deciders.
        rules = (round_["approver_roles"], round_["approver_users"])
        caller_decides = may_decide(identity.role, identity.user_id, *rules)
        if recipient:
            member = await uow.members.reviewer_by_email(identity.brand_id, recipient)
            if member is not None and not may_decide(member["role"], member["user_id"], *rules):
                raise Forbidden(
                    title="Not a reviewer of this round",
                    detail=f"{recipient} may not decide this round",
                    errors=[{"field": "recipient", "message": "a member who may not decide this round"}],
                )
        elif not caller_decides:
            raise Invalid(
                title="Invalid request",
                detail="invalid fields: recipient",
                errors=[
                    {
                        "field": "recipient",
                        "message": "required: only the round's deciders get a link's token",
                    }
                ],
            )
        expires_at = now + timedelta(hours=expires_in_hours)
        link = await uow.links.insert(
            identity.brand_id,
            approval_id,
            recipient=recipient,
            created_by=identity.user_id,
            expires_at=expires_at,
        )
        token = tokens.sign(PURPOSE, {"l": str(link["id"]), "b": str(identity.brand_id)}, secret)
        url = link_url(base_url, token)
        if recipient:
            await notify.review_link(uow, round_, recipient, url, link["id"])
    return {**link, "token": token, "url": url} if caller_decides else link


async def revoke_link(
    uows: UnitsOfWork, identity: Identity, approval_id: uuid.UUID, link_id: uuid.UUID
) -> None:
    require_role(identity, "owner", "admin", "editor", "approver")
    async with uows(brand_id=identity.brand_id) as uow:
        if not await uow.links.revoke(identity.brand_id, approval_id, link_id):
            raise NotFound(
                title="Review link not found", detail=f"no link {link_id} on approval {approval_id}"
            )


def _claims(token: str, secret: bytes) -> tuple[uuid.UUID, uuid.UUID]:
    try:
        payload = tokens.verify(PURPOSE, token, secret)
        return uuid.UUID(payload["l"]), uuid.UUID(payload["b"])
    except (tokens.InvalidToken, KeyError, ValueError, TypeError):
        raise NotFound(title="Review link not found", detail="this link is not valid") from None


def _usable(link: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
    if link is None:
        raise NotFound(title="Review link not found", detail="this link is not valid")
    if link["revoked_at"] is not None:
        raise Gone(title="Review link revoked", detail="this link was revoked; ask for a new one")
    if link["used_at"] is not None:
        raise Gone(title="Review link used", detail=f"this link was already used ({link['used_decision']})")
    if link["expires_at"] <= now:
        raise Gone(title="Review link expired", detail="this link has expired; ask for a new one")
    return link


async def view(uows: UnitsOfWork, token: str, *, secret: bytes, now: datetime) -> dict[str, Any]:
    link_id, brand_id = _claims(token, secret)  # the signature vouches for the brand scope below
    async with uows(brand_id=brand_id) as uow:
        link = _usable(await uow.links.get(brand_id, link_id), now)
        round_ = await uow.rounds.get_round(brand_id, link["approval_id"])
        assert round_ is not None  # a link belongs to its round (foreign key)
        earlier = await uow.rounds.rounds_of_job(brand_id, round_["job_id"])
        # The page speaks the recipient's language on their clock (their mail settings), else the brand's.
        client = await uow.clients.by_email(brand_id, link["recipient"]) if link["recipient"] else None
        time_zone = (client or {}).get("time_zone") or await uow.members.brand_time_zone(brand_id)
    return {
        "approval_id": round_["id"],
        "job_id": round_["job_id"],
        "round": round_["round"],
        "status": round_["status"],
        "scheduled_at": round_["scheduled_at"],
        "expires_at": link["expires_at"],
        "content": round_["content"],
        "platforms": per_platform(round_["content"], round_["targets"]),
        "earlier_rounds": [
            {"round": r["round"], "status": r["status"], "comment": r["decision_comment"]}
            for r in earlier
            if r["round"] < round_["round"] and r["decision_comment"]
        ],
        "language": (client or {}).get("language"),
        "time_zone": time_zone,
    }


async def decide(
    uows: UnitsOfWork,
    token: str,
    decision: Decision,
    comment: str | None,
    *,
    secret: bytes,
    base_url: str,
    now: datetime,
) -> dict[str, Any]:
    link_id, brand_id = _claims(token, secret)
    if decision is Decision.REQUEST_CHANGES and not (comment or "").strip():
        # The page's form says so too; a client who asks for changes must say which.
        raise Invalid(
            title="Comment required",
            detail="invalid fields: comment",
            errors=[{"field": "comment", "message": "required when you request changes"}],
        )
    async with uows(brand_id=brand_id) as uow:
        link = _usable(await uow.links.get(brand_id, link_id, lock=True), now)
        round_ = await uow.rounds.get_round(brand_id, link["approval_id"], lock=True)
        assert round_ is not None  # a link belongs to its round (foreign key)
        decided = await apply_decision(uow, round_, decision, comment, link_actor(link_id), base_url=base_url)
        await uow.links.mark_used(link_id, decision.value)
        client = await uow.clients.by_email(brand_id, link["recipient"]) if link["recipient"] else None
    return {**decided, "language": (client or {}).get("language")}
