"""Approval rounds: statuses, decisions and who may make them (no I/O)."""

from __future__ import annotations

from enum import StrEnum

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


def link_actor(link_id: object) -> str:
    """How a decision made through a review link names who made it."""
    return f"link:{link_id}"
