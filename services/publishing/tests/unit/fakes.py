"""In-memory fakes of publishing's ports (service_layer/ports.py): the job commands run on them
without PostgreSQL, so the lifecycle's rules are tested in milliseconds. They keep what the
SQL keeps (jobs, targets, holds, policies, known connections, media) and the events emitted;
`committed` says whether the unit of work ended without an error (aligned_testing.fakes)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aligned_common.app import Database
from aligned_common.guardrails import GuardrailRules
from aligned_common.platforms import MediaInfo
from aligned_publishing.config import Settings
from aligned_publishing.domain.calendar import FeedJob, FeedScope
from aligned_publishing.domain.content_fit import TargetDraft
from aligned_publishing.domain.gate import PolicyView
from aligned_publishing.domain.job import UNSENT_TARGET, Job
from aligned_publishing.domain.retry import idempotency_key
from aligned_publishing.domain.status import JobStatus, TargetStatus
from aligned_publishing.service_layer.deps import Deps
from aligned_publishing.service_layer.ports import ImportedRow
from aligned_testing.clock import StillClock
from aligned_testing.fakes import FakeTables, FakeTransaction

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Store(FakeTables):
    """What the database would hold, shared by every unit of work of one test."""

    jobs: dict[uuid.UUID, Job] = field(default_factory=dict)
    targets: dict[uuid.UUID, list[dict[str, Any]]] = field(default_factory=dict)
    holds: dict[uuid.UUID, str] = field(default_factory=dict)  # connection_id -> reason
    policies: dict[uuid.UUID, list[PolicyView]] = field(default_factory=dict)  # brand -> policies
    connections: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)  # id -> row (brand_id...)
    media: dict[uuid.UUID, tuple[uuid.UUID, MediaInfo, str]] = field(default_factory=dict)
    media_usage: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict)  # job -> media
    gate_locks: list[tuple[uuid.UUID, bool]] = field(default_factory=list)
    import_rows: dict[tuple[uuid.UUID, str, int], ImportedRow] = field(default_factory=dict)
    calendar_feeds: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)  # feed_id -> row
    feeds: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)  # feed_id -> subscription
    feed_entries: dict[tuple[uuid.UUID, str], dict[str, Any]] = field(default_factory=dict)
    guardrails: dict[uuid.UUID, tuple[int, GuardrailRules]] = field(default_factory=dict)  # brand -> kit
    guardrail_warnings: dict[uuid.UUID, list[dict[str, Any]]] = field(default_factory=dict)  # job -> found

    def job(self, job_id: uuid.UUID) -> Job:
        return self.jobs[job_id]

    def target_statuses(self, job_id: uuid.UUID) -> list[str]:
        return [t["status"] for t in self.targets[job_id]]

    def event_types(self) -> list[str]:
        return [e.type for e in self.events]


class FakeJobs:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.saves = 0

    async def get(self, job_id: uuid.UUID, *, for_update: bool = False) -> Job | None:
        job = self.store.jobs.get(job_id)
        return copy.deepcopy(job) if job is not None else None  # a row read, not the stored object

    async def set_guardrail_warnings(self, job_id: uuid.UUID, warnings: list[dict[str, Any]]) -> None:
        self.store.guardrail_warnings[job_id] = list(warnings)

    async def add(self, job: Job) -> None:
        assert job.job_id not in self.store.jobs, "primary key"
        job.changes.clear()
        self.store.jobs[job.job_id] = copy.deepcopy(job)

    async def save(self, job: Job, now: datetime) -> None:
        if job.changes:
            self.saves += 1
            job.saved(now)
            self.store.jobs[job.job_id] = copy.deepcopy(job)

    async def not_dispatched(self, brand_id: uuid.UUID) -> list[Job]:
        waiting = {
            JobStatus.DRAFT,
            JobStatus.CHANGES_REQUESTED,
            JobStatus.PENDING_APPROVAL,
            JobStatus.READY,
            JobStatus.SCHEDULED,
        }
        return [
            copy.deepcopy(j)
            for j in sorted(self.store.jobs.values(), key=lambda j: j.job_id)
            if j.brand_id == brand_id and j.deleted_at is None and j.status in waiting
        ]

    async def targets(self, job_id: uuid.UUID, *, for_update: bool = False) -> list[dict[str, Any]]:
        return [dict(t) for t in self.store.targets.get(job_id, [])]

    async def replace_targets(
        self, job_id: uuid.UUID, brand_id: uuid.UUID, targets: Sequence[TargetDraft]
    ) -> None:
        existing = {t["connection_id"]: t["target_id"] for t in self.store.targets.get(job_id, [])}
        rows = []
        for position, target in enumerate(targets):
            target_id = existing.get(target.connection_id) or uuid.uuid4()
            rows.append(
                {
                    "target_id": target_id,
                    "job_id": job_id,
                    "brand_id": brand_id,
                    "position": position,
                    "platform": target.platform.lower(),
                    "connection_id": target.connection_id,
                    "text_variant": target.text,
                    "media_variant": list(target.media_ids) if target.media_ids is not None else None,
                    "alt_text_variant": dict(target.alt_texts) if target.alt_texts else None,
                    "first_comment": target.first_comment,
                    "platform_options": dict(target.platform_options) if target.platform_options else None,
                    "idempotency_key": idempotency_key(job_id, target_id),
                    "status": TargetStatus.WAITING.value,
                    "next_attempt_at": None,
                    "due_at": None,
                    "held_reason": None,
                }
            )
        self.store.targets[job_id] = rows

    async def park_targets(self, job_id: uuid.UUID, status: TargetStatus, now: datetime) -> None:
        for t in self.store.targets.get(job_id, []):
            if t["status"] in UNSENT_TARGET:
                t.update(status=status.value, next_attempt_at=None)

    async def schedule_targets(self, job_id: uuid.UUID, due_at: datetime, now: datetime) -> int:
        for t in self.store.targets.get(job_id, []):
            if t["status"] in UNSENT_TARGET:
                reason = self.store.holds.get(t["connection_id"])
                t.update(
                    status=(TargetStatus.SCHEDULED if reason is None else TargetStatus.HELD).value,
                    next_attempt_at=due_at if reason is None else None,
                    held_reason=reason,
                    due_at=due_at,
                )
        return sum(1 for t in self.store.targets.get(job_id, []) if t["status"] == TargetStatus.HELD)

    async def replace_media_usage(
        self, job_id: uuid.UUID, brand_id: uuid.UUID, media_ids: set[uuid.UUID], now: datetime
    ) -> None:
        self.store.media_usage[job_id] = set(media_ids)


class FakeMedia:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def infos(
        self, brand_id: uuid.UUID, media_ids: Sequence[uuid.UUID]
    ) -> tuple[dict[uuid.UUID, MediaInfo], dict[tuple[uuid.UUID, str], MediaInfo]]:
        found = {m: self.store.media[m] for m in media_ids if m in self.store.media}
        return {m: info for m, (brand, info, _) in found.items() if brand == brand_id}, {}

    async def alt_texts(self, brand_id: uuid.UUID, media_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        return {
            m: self.store.media[m][2]
            for m in media_ids
            if m in self.store.media and self.store.media[m][0] == brand_id
        }


class FakePolicies:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def lock_gate(self, brand_id: uuid.UUID, *, exclusive: bool) -> None:
        self.store.gate_locks.append((brand_id, exclusive))

    async def of_brand(self, brand_id: uuid.UUID) -> list[PolicyView]:
        return list(self.store.policies.get(brand_id, []))

    async def put(self, brand_id: uuid.UUID, policy: PolicyView, at: datetime) -> None:
        await self.delete(brand_id, policy.policy_id)
        self.store.policies.setdefault(brand_id, []).append(policy)

    async def delete(self, brand_id: uuid.UUID, policy_id: uuid.UUID) -> None:
        kept = [p for p in self.store.policies.get(brand_id, []) if p.policy_id != policy_id]
        self.store.policies[brand_id] = kept


class FakeGuardrails:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def of_brand(self, brand_id: uuid.UUID) -> GuardrailRules | None:
        kept = self.store.guardrails.get(brand_id)
        return kept[1] if kept else None

    async def record(self, brand_id: uuid.UUID, version: int, rules: GuardrailRules, at: datetime) -> None:
        if brand_id not in self.store.guardrails or self.store.guardrails[brand_id][0] < version:
            self.store.guardrails[brand_id] = (version, rules)


class FakeConnections:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def known(
        self, brand_id: uuid.UUID, connection_ids: Sequence[uuid.UUID]
    ) -> Mapping[uuid.UUID, Mapping[str, Any]]:
        return {
            c: self.store.connections[c]
            for c in connection_ids
            if c in self.store.connections and self.store.connections[c]["brand_id"] == brand_id
        }


class FakeImports:
    def __init__(self, store: Store, jobs: FakeJobs) -> None:
        self.store = store
        self.jobs = jobs

    async def claim(
        self, brand_id: uuid.UUID, file_hash: str, rows: Sequence[ImportedRow], now: datetime
    ) -> set[int]:
        claimed = set()
        for row in rows:
            if (brand_id, file_hash, row.row) not in self.store.import_rows:
                self.store.import_rows[(brand_id, file_hash, row.row)] = row
                claimed.add(row.row)
        return claimed

    async def add_jobs(
        self, jobs: Sequence[Job], targets: Mapping[uuid.UUID, Sequence[TargetDraft]], now: datetime
    ) -> None:
        for job in jobs:
            await self.jobs.add(job)
            await self.jobs.replace_targets(job.job_id, job.brand_id, targets[job.job_id])
            self.store.media_usage[job.job_id] = set(job.media_ids)


class FakeCalendarFeeds:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def add(self, feed: dict[str, Any]) -> None:
        self.store.calendar_feeds[feed["feed_id"]] = dict(feed)

    async def of_brand(self, brand_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = [f for f in self.store.calendar_feeds.values() if f["brand_id"] == brand_id]
        return [{k: v for k, v in f.items() if k != "token_hash"} for f in rows]

    async def revoke(self, brand_id: uuid.UUID, feed_id: uuid.UUID, now: datetime) -> None:
        feed = self.store.calendar_feeds.get(feed_id)
        if feed is not None and feed["brand_id"] == brand_id and feed["revoked_at"] is None:
            feed["revoked_at"] = now

    async def by_token(self, token_hash: str) -> dict[str, Any] | None:
        found = [f for f in self.store.calendar_feeds.values() if f["token_hash"] == token_hash]
        return {k: v for k, v in found[0].items() if k != "token_hash"} if found else None

    async def jobs(
        self, brand_id: uuid.UUID, scope: FeedScope, start: datetime, end: datetime, limit: int
    ) -> list[FeedJob]:
        wanted = {JobStatus.PENDING_APPROVAL} if scope is FeedScope.APPROVALS else set(JobStatus)
        jobs = sorted(
            (
                j
                for j in self.store.jobs.values()
                if j.brand_id == brand_id
                and j.deleted_at is None
                and j.scheduled_at is not None
                and start <= j.scheduled_at < end
                and j.status in wanted
            ),
            key=lambda j: (j.scheduled_at, j.job_id),
        )
        return [
            FeedJob(
                j.job_id,
                j.content,
                j.status,
                j.scheduled_at,
                j.updated_at,
                j.version,
                tuple(t["platform"] for t in self.store.targets.get(j.job_id, [])),
            )
            for j in jobs[:limit]
            if j.scheduled_at is not None
        ]


class FakeFeeds:
    """Feed subscriptions; the (feed_id, entry_key) key decides as the unique index does."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def add(self, feed: dict[str, Any]) -> None:
        self.store.feeds[feed["feed_id"]] = dict(feed)

    async def get(
        self, brand_id: uuid.UUID, feed_id: uuid.UUID, *, for_update: bool = False
    ) -> dict[str, Any] | None:
        feed = self.store.feeds.get(feed_id)
        return dict(feed) if feed is not None and feed["brand_id"] == brand_id else None

    async def of_brand(self, brand_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = [dict(f) for f in self.store.feeds.values() if f["brand_id"] == brand_id]
        return sorted(rows, key=lambda f: (f["created_at"], f["feed_id"]))

    async def update(self, feed_id: uuid.UUID, changes: Mapping[str, Any]) -> None:
        if feed_id in self.store.feeds:
            self.store.feeds[feed_id].update(changes)

    async def delete(self, brand_id: uuid.UUID, feed_id: uuid.UUID) -> bool:
        if await self.get(brand_id, feed_id) is None:
            return False
        del self.store.feeds[feed_id]
        for key in [k for k in self.store.feed_entries if k[0] == feed_id]:
            del self.store.feed_entries[key]
        return True

    async def record_entry(self, entry: dict[str, Any]) -> bool:
        key = (entry["feed_id"], entry["entry_key"])
        if key in self.store.feed_entries:
            return False
        self.store.feed_entries[key] = dict(entry)
        return True

    async def skip_entry(self, feed_id: uuid.UUID, entry_key: str, reason: str) -> None:
        self.store.feed_entries[(feed_id, entry_key)].update(job_id=None, skipped=reason)

    async def entries(self, brand_id: uuid.UUID, feed_id: uuid.UUID, limit: int) -> list[dict[str, Any]]:
        rows = [
            dict(e) | {"job_status": self._status(e["job_id"])}
            for (f, _), e in self.store.feed_entries.items()
            if f == feed_id and e["brand_id"] == brand_id
        ]
        return sorted(rows, key=lambda e: (e["seen_at"], e["entry_key"]), reverse=True)[:limit]

    def _status(self, job_id: uuid.UUID | None) -> JobStatus | None:
        job = self.store.jobs.get(job_id) if job_id is not None else None
        return job.status if job is not None else None


class FakeUnitOfWork(FakeTransaction):
    """One transaction (aligned_testing.fakes): its events reach the store when it commits, and
    every table is put back when it raised."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.jobs = FakeJobs(store)
        self.media = FakeMedia(store)
        self.policies = FakePolicies(store)
        self.connections = FakeConnections(store)
        self.guardrails = FakeGuardrails(store)
        self.imports = FakeImports(store, self.jobs)
        self.calendar_feeds = FakeCalendarFeeds(store)
        self.feeds = FakeFeeds(store)


class FakeUnitOfWorkFactory:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.opened: list[FakeUnitOfWork] = []

    def __call__(self, brand_id: uuid.UUID | None = None, *, role: str = "app") -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self.store)
        self.opened.append(uow)
        return uow


class FakeStorage:
    """The object store is not used by the job commands."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the job commands do not touch the object store ({name})")


def fake_deps(store: Store, clock: StillClock, **settings: Any) -> Deps:
    config = Settings(**settings)
    return Deps(
        settings=config,
        database=Database(config, "publishing"),  # never opened: nothing here reaches it
        clock=clock,
        storage=FakeStorage(),  # type: ignore[arg-type]
        uow=FakeUnitOfWorkFactory(store),
    )
