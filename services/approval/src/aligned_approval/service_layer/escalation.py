"""The escalation timer's work: fire each due (approval, rule, level) exactly once."""

from __future__ import annotations

import logging
from datetime import datetime, time
from typing import Any

from aligned_approval.domain.decisions import Status
from aligned_approval.domain.escalation import Level, QuietHours, is_quiet, mail_kind_for, next_due_level
from aligned_approval.domain.preferences import MailKind
from aligned_approval.service_layer import notify
from aligned_approval.service_layer.ports import UnitsOfWork
from aligned_common.events.approval import Escalated

log = logging.getLogger(__name__)


def _quiet_hours(start: time | None, end: time | None) -> QuietHours | None:
    return QuietHours(start=start, end=end) if start is not None and end is not None else None


async def tick(
    uows: UnitsOfWork,
    *,
    now: datetime,
    hour_s: float = 3600.0,
    base_url: str = "",
    limit: int = 500,
) -> int:
    """One pass over pending rounds; returns how many escalations this replica fired."""
    # worker role: the timer looks at every brand's pending rounds (ADR 0004).
    async with uows(role="worker") as uow:
        candidates = await uow.escalations.candidates(limit)
    fired = 0
    for candidate in candidates:
        levels = [Level.model_validate(level) for level in candidate["levels"]]
        level = next_due_level(candidate["opened_at"], levels, candidate["fired_level"], now, hour_s)
        if level is None:
            continue
        if is_quiet(
            now, _quiet_hours(candidate["quiet_start"], candidate["quiet_end"]), candidate["time_zone"]
        ):
            await _defer(uows, candidate, level, now)
            continue
        fired += await _fire(uows, candidate, levels[level - 1], level, now, base_url)
    return fired


async def _defer(uows: UnitsOfWork, candidate: dict[str, Any], level: int, now: datetime) -> None:
    async with uows(brand_id=candidate["brand_id"]) as uow:
        await uow.escalations.record_step(
            candidate["brand_id"],
            candidate["approval_id"],
            candidate["rule_id"],
            level,
            "deferred_quiet_hours",
            {"at": now.isoformat(), "time_zone": candidate["time_zone"]},
        )


async def _fire(
    uows: UnitsOfWork,
    candidate: dict[str, Any],
    level_rule: Level,
    level: int,
    now: datetime,
    base_url: str,
) -> int:
    brand_id, approval_id = candidate["brand_id"], candidate["approval_id"]
    async with uows(brand_id=brand_id) as uow:
        # FOR SHARE waits for a decision being committed, so a decided round never escalates.
        if await uow.rounds.status_for_share(approval_id) != Status.PENDING:
            return 0
        round_ = {"id": approval_id, "brand_id": brand_id, "opened_at": candidate["opened_at"]}
        kind = MailKind(mail_kind_for(level))
        if not await uow.escalations.claim_firing(brand_id, approval_id, candidate["rule_id"], level):
            return 0  # another replica fired it
        notified = await notify.escalation(
            uow,
            round_,
            kind,
            level,
            level_rule.notify_roles,
            [str(a) for a in level_rule.notify_addresses],
            base_url,
        )
        targets = sorted({*level_rule.notify_roles, *notified})
        await uow.escalations.set_notified(approval_id, candidate["rule_id"], level, targets)
        await uow.escalations.record_step(
            brand_id,
            approval_id,
            candidate["rule_id"],
            level,
            "fired",
            {"notified": targets, "at": now.isoformat()},
        )
        await uow.emit(
            Escalated(
                approval_id=approval_id,
                job_id=candidate["job_id"],
                rule_id=candidate["rule_id"],
                level=level,
                notified=targets,
                pending_since=candidate["opened_at"],
            ),
            brand_id=brand_id,
            tenant_id=candidate["tenant_id"],
            subject=str(approval_id),
        )
    log.info("escalation fired", extra={"ctx_approval_id": str(approval_id), "ctx_level": level})
    return 1
