"""Approval policies: does a post need approval, and who may approve it (no I/O).

A policy applies to a brand, optionally narrowed to a connection and/or an author. For each
target the most specific policy wins (connection+author, connection, author, brand default);
with several targets the round may be decided by anyone any target's policy allows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum


class Mode(StrEnum):
    APPROVAL_REQUIRED = "approval_required"
    FULL_POSTING = "full_posting"


@dataclass(frozen=True)
class Policy:
    mode: Mode
    approver_roles: list[str]
    approver_users: list[str] = field(default_factory=list)
    connection_id: uuid.UUID | None = None
    user_id: str | None = None

    def specificity(self) -> int:
        return (2 if self.connection_id else 0) + (1 if self.user_id else 0)

    def applies_to(self, connection_id: uuid.UUID | None, user_id: str | None) -> bool:
        return (self.connection_id is None or self.connection_id == connection_id) and (
            self.user_id is None or self.user_id == user_id
        )


DEFAULT_POLICY = Policy(Mode.APPROVAL_REQUIRED, ["approver", "client"])


def resolve(policies: list[Policy], connection_id: uuid.UUID | None, user_id: str | None) -> Policy:
    matching = [p for p in policies if p.applies_to(connection_id, user_id)]
    return max(matching, key=Policy.specificity, default=DEFAULT_POLICY)


def approvers_for(
    policies: list[Policy], connection_ids: list[uuid.UUID], author_id: str
) -> tuple[list[str], list[str]]:
    """(roles, users) allowed to decide a round whose targets use these connections."""
    chosen = [resolve(policies, c, author_id) for c in connection_ids] or [resolve(policies, None, author_id)]
    roles = sorted({r for p in chosen for r in p.approver_roles})
    users = sorted({u for p in chosen for u in p.approver_users})
    return roles, users
