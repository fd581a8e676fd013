"""Approval rounds: statuses, decisions and who may make them (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal

from aligned_approval.domain.errors import Locked
from aligned_common.events.approval import Approved, ChangesRequested, Rejected, _Decision


class Status(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"
    CANCELLED = "cancelled"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"


# Roles that may ever decide; a round narrows it further (its policy's roles and named users).
DECIDING_ROLES: tuple[str, ...] = ("owner", "admin", "approver", "client")
# Owners and admins run the brand: they may always decide, whatever the policy names.
ALWAYS_ALLOWED: tuple[str, ...] = ("owner", "admin")

STATUS_AFTER: dict[Decision, Status] = {
    Decision.APPROVE: Status.APPROVED,
    Decision.REJECT: Status.REJECTED,
    Decision.REQUEST_CHANGES: Status.CHANGES_REQUESTED,
}

EVENT_FOR: dict[Decision, type[_Decision]] = {
    Decision.APPROVE: Approved,
    Decision.REJECT: Rejected,
    Decision.REQUEST_CHANGES: ChangesRequested,
}

# publishing.job_updated statuses that mean "the author sent it back for approval".
RESUBMITTED_STATUSES = frozenset({"pending_approval"})


def may_decide(role: str, user_id: str, approver_roles: list[str], approver_users: list[str]) -> bool:
    if role not in DECIDING_ROLES:
        return False
    return role in ALWAYS_ALLOWED or role in approver_roles or user_id in approver_users


# -- a round's transitions: pending -> approved | rejected | changes_requested | cancelled -----
# A round is its row (a mapping of the post_approvals columns); these say what may happen to it.
def locked(round_: Mapping[str, Any]) -> Locked:
    return Locked(
        title="Approval round is locked",
        detail=f"round {round_['round']} is already {round_['status']}",
        status_now=round_["status"],
    )


def require_pending(round_: Mapping[str, Any]) -> None:
    """Only a pending round changes; a decided or cancelled one is locked for good."""
    if round_["status"] != Status.PENDING:
        raise locked(round_)


def status_after(round_: Mapping[str, Any], decision: Decision) -> Status:
    """The status a decision locks the round in; a second decision is refused (Locked)."""
    require_pending(round_)
    return STATUS_AFTER[decision]


def on_edit(latest: Mapping[str, Any], job_status: str) -> Literal["follow", "reopen"] | None:
    """What a job's edit does to its latest round: a pending round follows the edit; a decided
    round is never changed, and an edit sent back for approval opens the next round."""
    if latest["status"] == Status.PENDING:
        return "follow"
    if latest["status"] != Status.CANCELLED and job_status in RESUBMITTED_STATUSES:
        return "reopen"
    return None


def link_actor(link_id: object) -> str:
    """How a decision made through a review link names who made it."""
    return f"link:{link_id}"
