"""In-memory fakes of the analytics service's ports (service_layer/unit_of_work.py).

One `FakeStore` holds every table as Python lists and dicts; each `FakeUnitOfWork` works on it
and, like a transaction, either commits (its events become `store.events`) or rolls every change
back. The fakes keep the rules the SQL keeps that the handlers lean on: a snapshot is upserted
(the same observation twice is stored once) and stored as growth since the one before it; a
goal's period is reached once; a plan is accepted once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aligned_analytics.domain.metrics import ENGAGEMENT, ENGAGEMENT_METRICS, Snapshot
from aligned_common.db import Role
from aligned_common.events.publishing import TargetRef
from aligned_testing.fakes import FakeTables, FakeTransaction

Row = dict[str, Any]


@dataclass
class FakeStore(FakeTables):
    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    accounts: dict[uuid.UUID, Row] = field(default_factory=dict)
    syncs: dict[uuid.UUID, Row] = field(default_factory=dict)
    # (connection, remote id, metric, observed at) -> (value, growth since the snapshot before)
    points: dict[tuple[uuid.UUID, str, str, datetime], tuple[float, float]] = field(default_factory=dict)
    goals: list[Row] = field(default_factory=list)
    achievements: set[uuid.UUID] = field(default_factory=set)  # one period per goal in these fakes
    targets: dict[uuid.UUID, Row] = field(default_factory=dict)
    posts: list[Row] = field(default_factory=list)
    zones: dict[uuid.UUID, str] = field(default_factory=dict)
    plans: dict[uuid.UUID, Row] = field(default_factory=dict)
    slots: dict[uuid.UUID, list[Row]] = field(default_factory=dict)
    report_links: dict[uuid.UUID, Row] = field(default_factory=dict)


class _Repo:
    def __init__(self, store: FakeStore) -> None:
        self.store = store


class FakeAccounts(_Repo):
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
    ) -> None:
        account = self.store.accounts.setdefault(
            connection_id,
            {"connection_id": connection_id, "account_id": None, "account_name": None, "next_sync_at": None},
        )
        account.update(
            brand_id=brand_id,
            tenant_id=tenant_id,
            platform=platform,
            status=status,
            status_reason=reason,
            account_id=account_id or account["account_id"],
            account_name=account_name or account["account_name"],
        )
        if sync_now:
            account["next_sync_at"] = self.store.now

    async def known(self, brand_id: uuid.UUID, connection_ids: list[uuid.UUID]) -> dict[uuid.UUID, Row]:
        return {
            c: dict(a)
            for c in connection_ids
            if (a := self.store.accounts.get(c)) is not None and a["brand_id"] == brand_id
        }

    async def lock_account(self, brand_id: uuid.UUID, connection_id: uuid.UUID) -> Row | None:
        return (await self.known(brand_id, [connection_id])).get(connection_id)

    async def active_accounts(self, brand_id: uuid.UUID) -> list[Row]:
        return [
            dict(a)
            for a in self.store.accounts.values()
            if a["brand_id"] == brand_id and a["status"] == "active"
        ]

    async def mark_requested(self, connection_id: uuid.UUID, interval_s: float) -> None:
        self.store.accounts[connection_id]["next_sync_at"] = self.store.now + timedelta(seconds=interval_s)


class FakeSyncLogs(_Repo):
    async def open_sync(
        self,
        *,
        sync_id: uuid.UUID,
        brand_id: uuid.UUID,
        connection_id: uuid.UUID,
        platform: str,
        trigger: str,
        remote_ids: list[str],
    ) -> None:
        self.store.syncs[sync_id] = {
            "sync_id": sync_id,
            "connection_id": connection_id,
            "trigger": trigger,
            "remote_ids": remote_ids,
            "status": "requested",
            "rows": 0,
            "error": None,
            "started_at": None,
        }

    async def start_sync(
        self, *, sync_id: uuid.UUID, brand_id: uuid.UUID, connection_id: uuid.UUID, platform: str
    ) -> None:
        if sync_id not in self.store.syncs:  # a sync connections began on its own
            await self.open_sync(
                sync_id=sync_id,
                brand_id=brand_id,
                connection_id=connection_id,
                platform=platform,
                trigger="external",
                remote_ids=[],
            )
        self.store.syncs[sync_id]["started_at"] = self.store.syncs[sync_id]["started_at"] or self.store.now

    async def finish_sync(
        self, sync_id: uuid.UUID, *, status: str, rows: int = 0, error: str | None = None
    ) -> None:
        sync = self.store.syncs[sync_id]
        sync.update(status=status, rows=sync["rows"] + rows, error=error)


class FakeMetrics(_Repo):
    async def store_snapshots(
        self,
        *,
        brand_id: uuid.UUID,
        connection_id: uuid.UUID,
        platform: str,
        sync_id: uuid.UUID | None,
        snapshots: list[Snapshot],
    ) -> int:
        for s in sorted(snapshots, key=lambda s: (s.observed_at, s.remote_id, s.metric)):
            key = (connection_id, s.remote_id, s.metric, s.observed_at)
            earlier = [
                (at, value)
                for (c, r, m, at), (value, _) in self.store.points.items()
                if (c, r, m) == key[:3] and at < s.observed_at
            ]
            before = max(earlier)[1] if earlier else 0.0
            self.store.points[key] = (s.value, s.value - before)
        return len(snapshots)

    def growth(self, metric: str) -> float:
        """Test read: the growth of `metric` over everything stored."""
        return sum(delta for (_, _, m, _), (_, delta) in self.store.points.items() if m == metric)


class FakeGoals(_Repo):
    async def create_goal(self, **goal: Any) -> None:
        self.store.goals.append(goal)

    async def record_reached(self, brand_id: uuid.UUID, instants: list[datetime]) -> list[Row]:
        """Every goal of the brand counts all stored growth (one period, for the fakes)."""
        metrics = FakeMetrics(self.store)
        reached = []
        for goal in self.store.goals:
            if goal["brand_id"] != brand_id or goal["goal_id"] in self.store.achievements:
                continue
            names = ENGAGEMENT_METRICS if goal["metric"] == ENGAGEMENT else (goal["metric"],)
            value = sum(metrics.growth(m) for m in names)
            if value >= goal["target"]:
                self.store.achievements.add(goal["goal_id"])
                reached.append(
                    {
                        "goal_id": goal["goal_id"],
                        "metric": goal["metric"],
                        "target": goal["target"],
                        "value": value,
                        "period_start": self.store.now.date(),
                        "period_end": self.store.now.date(),
                    }
                )
        return reached


class FakePosts(_Repo):
    async def remember_targets(
        self, brand_id: uuid.UUID, job_id: uuid.UUID, targets: list[TargetRef]
    ) -> None:
        for t in targets:
            self.store.targets.setdefault(
                t.target_id, {"brand_id": brand_id, "connection_id": t.connection_id}
            )

    async def connection_for_target(
        self, brand_id: uuid.UUID, target_id: uuid.UUID, platform: str
    ) -> uuid.UUID | None:
        target = self.store.targets.get(target_id)
        if target is not None and target["brand_id"] == brand_id:
            return uuid.UUID(str(target["connection_id"]))
        active = [
            a["connection_id"]
            for a in self.store.accounts.values()
            if a["brand_id"] == brand_id and a["platform"] == platform and a["status"] == "active"
        ]
        return active[0] if len(active) == 1 else None

    async def add_post(
        self,
        *,
        brand_id: uuid.UUID,
        connection_id: uuid.UUID,
        remote_id: str,
        platform: str,
        job_id: uuid.UUID,
        published_at: datetime,
    ) -> None:
        if not any(
            (p["connection_id"], p["remote_id"]) == (connection_id, remote_id) for p in self.store.posts
        ):
            self.store.posts.append(
                {"connection_id": connection_id, "remote_id": remote_id, "job_id": job_id}
            )

    async def tracked_remote_ids(self, connection_id: uuid.UUID, days: int) -> list[str]:
        return sorted(p["remote_id"] for p in self.store.posts if p["connection_id"] == connection_id)


class FakeBrands(_Repo):
    async def set_time_zone(self, brand_id: uuid.UUID, time_zone: str) -> None:
        self.store.zones[brand_id] = time_zone

    async def time_zone(self, brand_id: uuid.UUID) -> str:
        return self.store.zones.get(brand_id, "UTC")


class FakePlans(_Repo):
    async def plan(self, brand_id: uuid.UUID, plan_id: uuid.UUID) -> Row | None:
        plan = self.store.plans.get(plan_id)
        return dict(plan) if plan and plan["brand_id"] == brand_id else None

    async def slots(self, plan_id: uuid.UUID) -> list[Row]:
        return [dict(s) for s in self.store.slots.get(plan_id, [])]

    async def accept(self, brand_id: uuid.UUID, plan_id: uuid.UUID, user_id: str) -> bool:
        plan = self.store.plans.get(plan_id)
        if plan is None or plan["brand_id"] != brand_id or plan["status"] != "proposed":
            return False
        plan.update(status="accepted", accepted_by=user_id)
        return True


class FakeReportLinks(_Repo):
    async def add(self, link: dict[str, Any]) -> None:
        self.store.report_links[link["link_id"]] = dict(link)

    async def of_brand(self, brand_id: uuid.UUID) -> list[dict[str, Any]]:
        return [dict(r) for r in self.store.report_links.values() if r["brand_id"] == brand_id]

    async def revoke(self, brand_id: uuid.UUID, link_id: uuid.UUID, now: datetime) -> bool:
        link = self.store.report_links.get(link_id)
        if link is None or link["brand_id"] != brand_id:
            return False
        link["revoked_at"] = link["revoked_at"] or now
        return True

    async def by_token(self, token_hash: str) -> dict[str, Any] | None:
        return next(
            (dict(r) for r in self.store.report_links.values() if r["token_hash"] == token_hash), None
        )

    async def known_goals(self, brand_id: uuid.UUID, goal_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        return {
            g["goal_id"] for g in self.store.goals if g["brand_id"] == brand_id and g["goal_id"] in goal_ids
        }


class FakeUnitOfWork(FakeTransaction):
    def __init__(self, store: FakeStore, *, brand_id: uuid.UUID | None = None, role: Role = "app") -> None:
        super().__init__(store)
        self.brand_id = brand_id
        self.role = role
        self.accounts = FakeAccounts(store)
        self.syncs = FakeSyncLogs(store)
        self.metrics = FakeMetrics(store)
        self.goals = FakeGoals(store)
        self.posts = FakePosts(store)
        self.brands = FakeBrands(store)
        self.plans = FakePlans(store)
        self.report_links = FakeReportLinks(store)


@dataclass
class FakeUnitsOfWork:
    store: FakeStore = field(default_factory=FakeStore)

    def __call__(self, *, brand_id: uuid.UUID | None = None, role: Role = "app") -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store, brand_id=brand_id, role=role)
