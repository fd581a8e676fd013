"""The service layer's ports: the repositories a handler reaches through its unit of work.

Handlers see only these Protocols (`uow.rounds`, `uow.escalations`, ...); the adapters hold the
SQL (adapters/*.py, SqlUnitOfWork) and the unit tests' fakes (tests/unit/fakes.py) hold lists.
A unit of work is one transaction: every repository call and `emit` inside it commit together.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Protocol

from aligned_approval.domain.audit import AuditEntry
from aligned_approval.domain.escalation import RuleIn
from aligned_approval.domain.policy import Policy
from aligned_common.envelope import EventEnvelope
from aligned_common.units import Opener, Transaction

Row = dict[str, Any]


class Rounds(Protocol):
    """Approval rounds (post_approvals)."""

    async def insert_round(self, **values: Any) -> Row | None: ...

    async def get_round(
        self, brand_id: uuid.UUID, approval_id: uuid.UUID, *, lock: bool = False
    ) -> Row | None: ...

    async def latest_round(self, brand_id: uuid.UUID, job_id: uuid.UUID) -> Row | None: ...

    async def rounds_of_job(self, brand_id: uuid.UUID, job_id: uuid.UUID) -> list[Row]: ...

    async def cancel_pending_rounds(
        self, brand_id: uuid.UUID, job_id: uuid.UUID, below_round: int | None = None
    ) -> int: ...

    async def record_decision(
        self, approval_id: uuid.UUID, status: str, decided_by: str, comment: str | None
    ) -> Row | None: ...

    async def update_pending_content(
        self, approval_id: uuid.UUID, content: str, scheduled_at: datetime | None
    ) -> None: ...

    async def update_round_details(
        self, approval_id: uuid.UUID, *, note: str | None, approver_users: list[str] | None
    ) -> Row | None: ...

    async def status_for_share(self, approval_id: uuid.UUID) -> str | None: ...

    async def list_rounds(
        self,
        brand_id: uuid.UUID,
        *,
        status: str | None,
        reviewer: tuple[str, str | None] | None,
        opened_before: datetime | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[Row]: ...


class Members(Protocol):
    """The brands and reviewers we know (from gateway events)."""

    async def upsert_brand(
        self, brand_id: uuid.UUID, tenant_id: uuid.UUID, name: str | None, time_zone: str
    ) -> None: ...

    async def archive_brand(self, brand_id: uuid.UUID, tenant_id: uuid.UUID) -> None: ...

    async def upsert_reviewer(
        self, brand_id: uuid.UUID, user_id: str, email: str | None, role: str
    ) -> None: ...

    async def remove_reviewer(self, brand_id: uuid.UUID, user_id: str) -> None: ...

    async def list_reviewers(self, brand_id: uuid.UUID) -> list[Row]: ...

    async def reviewer_emails(
        self, brand_id: uuid.UUID, *, roles: list[str], users: list[str]
    ) -> list[str]: ...

    async def reviewer_by_email(self, brand_id: uuid.UUID, email: str) -> Row | None: ...

    async def brand_time_zone(self, brand_id: uuid.UUID) -> str: ...

    async def role_of(self, brand_id: uuid.UUID, user_id: str) -> str | None: ...

    async def brand_tenant(self, brand_id: uuid.UUID) -> uuid.UUID | None: ...


class Policies(Protocol):
    """Approval policies."""

    async def policies(self, brand_id: uuid.UUID) -> list[Policy]: ...

    async def list_policies(self, brand_id: uuid.UUID) -> list[Row]: ...

    async def policy_of_scope(
        self, brand_id: uuid.UUID, connection_id: uuid.UUID | None, user_id: str | None
    ) -> Row | None: ...

    async def upsert_policy(self, brand_id: uuid.UUID, **values: Any) -> Row: ...

    async def delete_policy(self, brand_id: uuid.UUID, policy_id: uuid.UUID) -> Row | None: ...


class Escalations(Protocol):
    """Escalation rules and what they fired."""

    async def insert_rule(self, brand_id: uuid.UUID, rule: RuleIn) -> Row: ...

    async def replace_rule(self, brand_id: uuid.UUID, rule_id: uuid.UUID, rule: RuleIn) -> Row | None: ...

    async def get_rule(
        self, brand_id: uuid.UUID, rule_id: uuid.UUID, *, for_update: bool = False
    ) -> Row | None: ...

    async def list_rules(self, brand_id: uuid.UUID) -> list[Row]: ...

    async def delete_rule(self, brand_id: uuid.UUID, rule_id: uuid.UUID) -> bool: ...

    async def candidates(self, limit: int) -> list[Row]: ...

    async def claim_firing(
        self, brand_id: uuid.UUID, approval_id: uuid.UUID, rule_id: uuid.UUID, level: int
    ) -> bool: ...

    async def set_notified(
        self, approval_id: uuid.UUID, rule_id: uuid.UUID, level: int, notified: list[str]
    ) -> None: ...

    async def record_step(
        self,
        brand_id: uuid.UUID,
        approval_id: uuid.UUID,
        rule_id: uuid.UUID,
        level: int,
        step: str,
        detail: dict[str, Any] | None = None,
    ) -> None: ...

    async def resolve_fired(self, approval_id: uuid.UUID, status: str) -> None: ...

    async def events_of(self, brand_id: uuid.UUID, approval_id: uuid.UUID) -> list[Row]: ...

    async def history_of(self, brand_id: uuid.UUID, approval_id: uuid.UUID) -> list[Row]: ...


class Notifications(Protocol):
    """The notifications table: mails queued, sent, held, folded."""

    async def enqueue(
        self,
        brand_id: uuid.UUID,
        *,
        kind: str,
        to_address: str,
        subject: str,
        body: str,
        approval_id: uuid.UUID | None,
        dedupe_key: str,
        job_id: uuid.UUID | None = None,
    ) -> uuid.UUID | None: ...

    async def claim_due(self, limit: int) -> list[Row]: ...

    async def mark(self, notification_id: uuid.UUID, status: str, error: str | None = None) -> None: ...

    async def sent_since(
        self,
        brand_id: uuid.UUID,
        address: str,
        since: datetime,
        kinds: tuple[str, ...] | None = None,
    ) -> int: ...

    async def held(self, brand_id: uuid.UUID, address: str) -> list[Row]: ...

    async def fold(self, ids: list[uuid.UUID], digest_id: uuid.UUID) -> None: ...

    async def pending_requests(self, brand_id: uuid.UUID, address: str) -> list[Row]: ...

    async def to_address(self, brand_id: uuid.UUID, address: str, limit: int = 200) -> list[Row]: ...

    async def retry_later(self, notification_id: uuid.UUID, delay_s: float, error: str) -> None: ...

    async def of_brand(self, brand_id: uuid.UUID, approval_id: uuid.UUID | None = None) -> list[Row]: ...


class ClientSettings(Protocol):
    """Each client's mail settings (client_settings)."""

    async def ensure(self, brand_id: uuid.UUID, email: str) -> Row: ...

    async def by_email(self, brand_id: uuid.UUID, email: str) -> Row | None: ...

    async def get(self, brand_id: uuid.UUID, settings_id: uuid.UUID, *, lock: bool = False) -> Row | None: ...

    async def list_all(self, brand_id: uuid.UUID) -> list[Row]: ...

    async def update(
        self,
        brand_id: uuid.UUID,
        email: str,
        *,
        preferences: dict[str, Any] | None,
        time_zone: str | None,
        subscribed: bool | None,
        unsubscribed_types: list[str] | None = None,
        language: str | None = None,
    ) -> Row: ...

    async def unsubscribe(
        self, brand_id: uuid.UUID, settings_id: uuid.UUID, kind: str | None
    ) -> Row | None: ...

    async def rotate_token(self, brand_id: uuid.UUID, settings_id: uuid.UUID) -> Row | None: ...

    async def digest_candidates(self) -> list[Row]: ...

    async def claim_digest(
        self,
        brand_id: uuid.UUID,
        client_id: uuid.UUID,
        cadence: str,
        period_start: date,
        notification_id: uuid.UUID,
    ) -> bool: ...

    async def digest_claimed(self, client_id: uuid.UUID, cadence: str, period_start: date) -> bool: ...


class Links(Protocol):
    """Review links."""

    async def insert(
        self,
        brand_id: uuid.UUID,
        approval_id: uuid.UUID,
        *,
        recipient: str | None,
        created_by: str,
        expires_at: datetime,
    ) -> Row: ...

    async def get(self, brand_id: uuid.UUID, link_id: uuid.UUID, *, lock: bool = False) -> Row | None: ...

    async def of_round(self, brand_id: uuid.UUID, approval_id: uuid.UUID) -> list[Row]: ...

    async def revoke(self, brand_id: uuid.UUID, approval_id: uuid.UUID, link_id: uuid.UUID) -> bool: ...

    async def mark_used(self, link_id: uuid.UUID, decision: str) -> None: ...


class Jobs(Protocol):
    """The jobs we know of (their text and author)."""

    async def remember(
        self,
        brand_id: uuid.UUID,
        job_id: uuid.UUID,
        *,
        content: str | None = None,
        author_id: str | None = None,
    ) -> None: ...

    async def known(self, brand_id: uuid.UUID, job_id: uuid.UUID) -> bool: ...

    async def get(self, brand_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any] | None: ...


class Audit(Protocol):
    """The audit trail (partitioned by month)."""

    async def create_partition(self, month: datetime) -> str: ...

    async def ensure_partition(self, schema: str, at: datetime) -> None: ...

    async def append(self, schema: str, entry: AuditEntry) -> bool: ...

    async def query(
        self,
        brand_id: uuid.UUID,
        *,
        entity_type: str | None,
        entity_id: str | None,
        actor: str | None,
        action: str | None,
        since: datetime | None,
        until: datetime | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[Row]: ...


class KnownConnections(Protocol):
    """Which connections a policy may name."""

    async def record(self, envelope: EventEnvelope, data: Any) -> None: ...

    async def problem_with(self, brand_id: uuid.UUID, connection_id: uuid.UUID) -> tuple[str, str] | None: ...


class UnitOfWork(Transaction, Protocol):
    """One transaction (emit, async with: aligned_common.units), scoped to a brand (row-level
    security) or, for the timers, to all; the repositories on it."""

    @property
    def rounds(self) -> Rounds: ...
    @property
    def members(self) -> Members: ...
    @property
    def policies(self) -> Policies: ...
    @property
    def escalations(self) -> Escalations: ...
    @property
    def notifications(self) -> Notifications: ...
    @property
    def clients(self) -> ClientSettings: ...
    @property
    def links(self) -> Links: ...
    @property
    def jobs(self) -> Jobs: ...
    @property
    def audit(self) -> Audit: ...
    @property
    def connections(self) -> KnownConnections: ...
    @property
    def schema(self) -> str: ...


# `async with uows(brand_id=...) as uow:`; role "worker" spans brands.
UnitsOfWork = Opener[UnitOfWork]
