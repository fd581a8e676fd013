"""The service layer's ports: the repositories a handler reaches through its unit of work.

Handlers see only these Protocols (`uow.accounts`, `uow.goals`, ...); the adapters hold the SQL
(adapters/*.py, SqlUnitOfWork) and the unit tests' fakes (tests/unit/fakes.py) hold
lists. A unit of work is one transaction: every repository call and `emit` inside it commit
together.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from aligned_analytics.domain.metrics import Snapshot
from aligned_common.events.publishing import TargetRef
from aligned_common.units import Opener, Transaction

# A row as the repositories return it (an asyncpg Record reads like a mapping).
Row = Mapping[str, Any]


class Accounts(Protocol):
    """The connected accounts analytics syncs (from connections' events)."""

    async def upsert_account(
        self,
        *,
        connection_id: uuid.UUID,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        platform: str,
        account_id: str | None,
        account_name: str | None,
        status: str,
        reason: str | None,
        sync_now: bool,
    ) -> None: ...

    async def list_accounts(self, brand_id: uuid.UUID) -> list[Row]: ...

    async def known(self, brand_id: uuid.UUID, connection_ids: list[uuid.UUID]) -> dict[uuid.UUID, Row]: ...

    async def lock_account(self, brand_id: uuid.UUID, connection_id: uuid.UUID) -> Row | None: ...

    async def active_accounts(self, brand_id: uuid.UUID) -> list[Row]: ...

    async def claim_due_accounts(self, interval_s: float, limit: int) -> list[Row]: ...

    async def mark_requested(self, connection_id: uuid.UUID, interval_s: float) -> None: ...


class Advisor(Protocol):
    """The advisor's feedback and per-hour weights."""

    async def record_feedback(self, **feedback: Any) -> None: ...

    async def weight_for_update(self, brand_id: uuid.UUID, hour_of_week: int) -> float: ...

    async def set_weight(self, brand_id: uuid.UUID, hour_of_week: int, weight: float) -> None: ...


class Brands(Protocol):
    """Each brand's time zone (from the gateway's brand_created)."""

    async def set_time_zone(self, brand_id: uuid.UUID, time_zone: str) -> None: ...

    async def time_zone(self, brand_id: uuid.UUID) -> str: ...


class Goals(Protocol):
    """Goals, their progress and the periods they were reached in."""

    async def create_goal(self, **goal: Any) -> None: ...

    async def progress_now(
        self, brand_id: uuid.UUID, now: datetime, goal_id: uuid.UUID | None = None
    ) -> list[Row]: ...

    async def record_reached(self, brand_id: uuid.UUID, instants: list[datetime]) -> list[Row]: ...

    async def archive_goal(self, brand_id: uuid.UUID, goal_id: uuid.UUID) -> bool: ...


class Metrics(Protocol):
    """Metric snapshots (upserted: a re-sync of the same observation changes nothing)."""

    async def store_snapshots(
        self,
        *,
        brand_id: uuid.UUID,
        connection_id: uuid.UUID,
        platform: str,
        sync_id: uuid.UUID | None,
        snapshots: list[Snapshot],
    ) -> int: ...


class Partitions(Protocol):
    """Monthly partitions of analytics_metrics."""

    async def ensure_months_ahead(self, months_ahead: int) -> list[str]: ...

    async def ensure_months_of(self, observed_ats: list[datetime]) -> None: ...

    async def drop_expired(self, retention_months: int) -> list[str]: ...

    async def partition_names(self) -> list[str]: ...


class Plans(Protocol):
    """Auto plans and their slots."""

    async def create_plan(
        self,
        *,
        plan_id: uuid.UUID,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        created_by: str,
        days: int,
        posts_per_day: int,
        lookback_start: datetime,
        now: datetime,
        engagement_metrics: list[str],
        connection_ids: list[uuid.UUID] | None,
        zone: str = "UTC",
    ) -> int: ...

    async def plan(self, brand_id: uuid.UUID, plan_id: uuid.UUID) -> Row | None: ...

    async def slots(self, plan_id: uuid.UUID) -> list[Row]: ...

    async def accept(self, brand_id: uuid.UUID, plan_id: uuid.UUID, user_id: str) -> bool: ...

    async def page_of_plans(self, brand_id: uuid.UUID, after: list[Any] | None, limit: int) -> list[Row]: ...


class Posts(Protocol):
    """Published posts analytics tracks, and the jobs' targets it remembers."""

    async def remember_targets(
        self, brand_id: uuid.UUID, job_id: uuid.UUID, targets: list[TargetRef]
    ) -> None: ...

    async def connection_for_target(
        self, brand_id: uuid.UUID, target_id: uuid.UUID, platform: str
    ) -> uuid.UUID | None: ...

    async def add_post(
        self,
        *,
        brand_id: uuid.UUID,
        connection_id: uuid.UUID,
        remote_id: str,
        platform: str,
        job_id: uuid.UUID,
        published_at: datetime,
    ) -> None: ...

    async def claim_posts_due_first_sync(self, delay_s: float, limit: int) -> list[Row]: ...

    async def tracked_remote_ids(self, connection_id: uuid.UUID, days: int) -> list[str]: ...


class Reports(Protocol):
    """The reports' queries."""

    async def summary(
        self,
        brand_id: uuid.UUID,
        start: datetime,
        end: datetime,
        previous_start: datetime,
        platform: str | None = None,
    ) -> list[Row]: ...

    async def per_platform(
        self, brand_id: uuid.UUID, start: datetime, end: datetime, previous_start: datetime
    ) -> list[Row]: ...

    async def page_of_posts(
        self,
        brand_id: uuid.UUID,
        start: datetime,
        end: datetime,
        after: list[Any] | None,
        limit: int,
        job_id: uuid.UUID | None = None,
    ) -> list[Row]: ...

    async def top_posts(
        self, brand_id: uuid.UUID, start: datetime, end: datetime, ranked_metrics: list[str], limit: int
    ) -> list[Row]: ...

    async def time_series(
        self,
        brand_id: uuid.UUID,
        start: datetime,
        end: datetime,
        metrics: list[str],
        bucket: str,
        platform: str | None,
        zone: str = "UTC",
    ) -> list[Row]: ...

    async def best_hours(
        self,
        brand_id: uuid.UUID,
        start: datetime,
        end: datetime,
        metrics: list[str],
        order_by_score: bool,
        limit: int = 168,
        zone: str = "UTC",
    ) -> list[Row]: ...

    async def report_top_posts(
        self, brand_id: uuid.UUID, start: datetime, end: datetime, platforms: list[str] | None, limit: int
    ) -> list[Row]: ...


class ReportLinks(Protocol):
    """Client report links (the token's sha256 only, never the token)."""

    async def add(self, link: dict[str, Any]) -> None: ...

    async def of_brand(self, brand_id: uuid.UUID) -> list[dict[str, Any]]: ...

    async def revoke(self, brand_id: uuid.UUID, link_id: uuid.UUID, now: datetime) -> bool: ...

    async def by_token(self, token_hash: str) -> dict[str, Any] | None: ...

    async def known_goals(self, brand_id: uuid.UUID, goal_ids: list[uuid.UUID]) -> set[uuid.UUID]: ...


class SyncLogs(Protocol):
    """The log of every sync asked for, started and finished."""

    async def open_sync(
        self,
        *,
        sync_id: uuid.UUID,
        brand_id: uuid.UUID,
        connection_id: uuid.UUID,
        platform: str,
        trigger: str,
        remote_ids: list[str],
    ) -> None: ...

    async def start_sync(
        self,
        *,
        sync_id: uuid.UUID,
        brand_id: uuid.UUID,
        connection_id: uuid.UUID,
        platform: str,
    ) -> None: ...

    async def finish_sync(
        self, sync_id: uuid.UUID, *, status: str, rows: int = 0, error: str | None = None
    ) -> None: ...

    async def time_out_stale(self, timeout_s: float) -> int: ...

    async def page_of_syncs(
        self,
        brand_id: uuid.UUID,
        after: list[Any] | None,
        limit: int,
        connection_id: uuid.UUID | None,
    ) -> list[Row]: ...


class UnitOfWork(Transaction, Protocol):
    """One transaction (emit, async with: aligned_common.units), scoped to a brand (row-level
    security) or, for the loops, to all; the repositories on it."""

    @property
    def accounts(self) -> Accounts: ...
    @property
    def advisor(self) -> Advisor: ...
    @property
    def brands(self) -> Brands: ...
    @property
    def goals(self) -> Goals: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def partitions(self) -> Partitions: ...
    @property
    def plans(self) -> Plans: ...
    @property
    def posts(self) -> Posts: ...
    @property
    def reports(self) -> Reports: ...
    @property
    def report_links(self) -> ReportLinks: ...
    @property
    def syncs(self) -> SyncLogs: ...


# `async with uows(brand_id=...) as uow:`; role "worker" spans brands.
UnitsOfWork = Opener[UnitOfWork]
