"""The approval gate: does a job need approval, why, who may waive it, and what was approved (no I/O).

Policies come from approval's events (publishing keeps its own copy). For each target the most
specific policy wins (connection+author, connection, author, brand-wide), the same rule as
approval's `domain/policy.resolve`; a job needs approval when its author asked for it or when
any target's policy says `approval_required`. A target no policy covers leaves it to the author.

An approval (an approved round, or a waiver) covers one content hash: the hash of every
target's account, text, media, first comment and per-platform fields, in order. Any change
to what goes out changes the hash and closes the gate again.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

APPROVAL_REQUIRED = "approval_required"
DEFAULT_WAIVER_ROLES = ("owner", "admin")


@dataclass(frozen=True)
class PolicyView:
    policy_id: uuid.UUID
    mode: str
    connection_id: uuid.UUID | None = None
    user_id: str | None = None
    waiver_roles: tuple[str, ...] = DEFAULT_WAIVER_ROLES

    def specificity(self) -> int:
        return (2 if self.connection_id else 0) + (1 if self.user_id else 0)

    def applies_to(self, connection_id: uuid.UUID, author_id: str) -> bool:
        return (self.connection_id is None or self.connection_id == connection_id) and (
            self.user_id is None or self.user_id == author_id
        )

    def describe(self) -> str:
        scope = []
        if self.connection_id:
            scope.append(f"connection {self.connection_id}")
        if self.user_id:
            scope.append(f"author {self.user_id}")
        return f"policy {self.policy_id} ({', '.join(scope) or 'brand-wide'})"


@dataclass(frozen=True)
class Gate:
    required: bool
    reason: str | None  # why approval is required, naming the policy; None when it is not
    waiver_roles: frozenset[str]  # who may waive it


def resolve(policies: Sequence[PolicyView], connection_id: uuid.UUID, author_id: str) -> PolicyView | None:
    matching = [p for p in policies if p.applies_to(connection_id, author_id)]
    return max(matching, key=PolicyView.specificity, default=None)


def evaluate(
    policies: Sequence[PolicyView], connection_ids: Sequence[uuid.UUID], author_id: str, author_asked: bool
) -> Gate:
    requiring: dict[uuid.UUID, PolicyView] = {}
    for connection_id in connection_ids:
        policy = resolve(policies, connection_id, author_id)
        if policy is not None and policy.mode == APPROVAL_REQUIRED:
            requiring.setdefault(policy.policy_id, policy)
    reasons = [f"required by {p.describe()}" for p in requiring.values()]
    if author_asked:
        reasons.append("the author asked for approval")
    if not reasons:
        return Gate(False, None, frozenset(DEFAULT_WAIVER_ROLES))
    # Every requiring policy must allow the waiver; the author's own request: owner/admin.
    roles = frozenset(DEFAULT_WAIVER_ROLES)
    if requiring:
        roles = frozenset.intersection(*(frozenset(p.waiver_roles) for p in requiring.values()))
    return Gate(True, "approval " + "; ".join(reasons), roles)


@dataclass(frozen=True)
class Outgoing:
    """What one target posts: the account and its own text and media (variants resolved)."""

    connection_id: uuid.UUID
    platform: str
    text: str
    media_ids: tuple[uuid.UUID, ...]
    first_comment: str | None = None
    platform_options: Mapping[str, Any] | None = None


def content_hash(outgoing: Sequence[Outgoing]) -> str:
    # A first comment goes out too, so an approval covers it; hashed only when there is one, so
    # the hash of every job without one (and so its approval) stays what it was.
    # Per-platform fields (a YouTube title, a TikTok privacy level) go out too: likewise hashed
    # only when a target has some, keys sorted, so the order they were written in does not count.
    canonical = orjson.dumps(
        [
            [str(o.connection_id), o.platform, o.text, [str(m) for m in o.media_ids]]
            + ([o.first_comment] if o.first_comment is not None else [])
            + ([dict(o.platform_options)] if o.platform_options else [])
            for o in outgoing
        ],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(canonical).hexdigest()


def approved_for_current(approved_hash: str | None, current_hash: str | None) -> bool:
    return approved_hash is not None and approved_hash == current_hash
