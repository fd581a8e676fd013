"""What the job commands need from storage, as small protocols: the unit of work exposes one
repository of each (adapters/unit_of_work.py over PostgreSQL; tests/unit/fakes.py in memory).
Target rows are read by key (`target["status"]`), as asyncpg's records and the fakes' dicts are."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from aligned_common.guardrails import GuardrailRules
from aligned_common.platforms import MediaInfo
from aligned_common.units import Opener, Transaction
from aligned_publishing.domain.calendar import FeedJob, FeedScope
from aligned_publishing.domain.content_fit import TargetDraft
from aligned_publishing.domain.gate import PolicyView
from aligned_publishing.domain.job import Job
from aligned_publishing.domain.status import TargetStatus

Row = Mapping[str, Any]


@dataclass(frozen=True)
class ImportedRow:
    row: int
    job_id: uuid.UUID
    first_comment: str | None


class Jobs(Protocol):
    async def get(self, job_id: uuid.UUID, *, for_update: bool = False) -> Job | None: ...

    async def add(self, job: Job) -> None: ...

    async def save(self, job: Job, now: datetime) -> None:
        """Writes what the job's `changes` say (nothing when none)."""

    async def not_dispatched(self, brand_id: uuid.UUID) -> list[Job]:
        """The brand's jobs a policy change may concern (not deleted, not yet gone out), locked."""

    async def targets(self, job_id: uuid.UUID, *, for_update: bool = False) -> Sequence[Row]: ...

    async def replace_targets(
        self, job_id: uuid.UUID, brand_id: uuid.UUID, targets: Sequence[TargetDraft]
    ) -> None: ...

    async def park_targets(self, job_id: uuid.UUID, status: TargetStatus, now: datetime) -> None:
        """Unsent targets stop being due (back to waiting, or cancelled)."""

    async def set_guardrail_warnings(self, job_id: uuid.UUID, warnings: list[dict[str, Any]]) -> None:
        """What the brand kit's `warn` rules found in the job's texts, as the job shows them."""

    async def schedule_targets(self, job_id: uuid.UUID, due_at: datetime, now: datetime) -> int:
        """Unsent targets become due at `due_at`, or held if their connection is; returns how many are held."""

    async def replace_media_usage(
        self, job_id: uuid.UUID, brand_id: uuid.UUID, media_ids: set[uuid.UUID], now: datetime
    ) -> None: ...


class Media(Protocol):
    async def infos(
        self, brand_id: uuid.UUID, media_ids: Sequence[uuid.UUID]
    ) -> tuple[dict[uuid.UUID, MediaInfo], dict[tuple[uuid.UUID, str], MediaInfo]]:
        """The brand's assets among these ids, and the variants fitted to each platform."""

    async def alt_texts(
        self, brand_id: uuid.UUID, media_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, str]: ...


class Policies(Protocol):
    async def lock_gate(self, brand_id: uuid.UUID, *, exclusive: bool) -> None:
        """Orders a policy change (exclusive) against the brand's commands (shared)."""

    async def of_brand(self, brand_id: uuid.UUID) -> list[PolicyView]: ...

    async def put(self, brand_id: uuid.UUID, policy: PolicyView, at: datetime) -> None:
        """Our copy of one of approval's policies, as of `at`."""

    async def delete(self, brand_id: uuid.UUID, policy_id: uuid.UUID) -> None: ...


class Guardrails(Protocol):
    async def of_brand(self, brand_id: uuid.UUID) -> GuardrailRules | None:
        """Our copy of the brand kit's rules (None: no kit has reached us)."""

    async def record(self, brand_id: uuid.UUID, version: int, rules: GuardrailRules, at: datetime) -> None:
        """Keep a version's rules, unless ours is already that version or newer."""


class Connections(Protocol):
    async def known(
        self, brand_id: uuid.UUID, connection_ids: Sequence[uuid.UUID]
    ) -> Mapping[uuid.UUID, Row]:
        """Our copy of the brand's connections among these ids."""


class Imports(Protocol):
    """CSV imports (service_layer/imports.py): which rows of a file were imported, and their jobs."""

    async def claim(
        self, brand_id: uuid.UUID, file_hash: str, rows: Sequence[ImportedRow], now: datetime
    ) -> set[int]:
        """Records these rows of the file as imported; returns the row numbers no earlier import
        of the file recorded (theirs are the jobs to create). The (brand, file, row) key decides,
        so two imports of one file at once create each row's job once."""

    async def add_jobs(
        self, jobs: Sequence[Job], targets: Mapping[uuid.UUID, Sequence[TargetDraft]], now: datetime
    ) -> None:
        """New jobs with their targets and media usage, a few statements for the lot."""


class CalendarFeeds(Protocol):
    """Calendar feeds (service_layer/calendar.py); rows: feed_id, brand_id, scope, user_id,
    created_at, revoked_at."""

    async def add(self, feed: dict[str, Any]) -> None:
        """A new feed (with its token's hash, `token_hash`)."""

    async def of_brand(self, brand_id: uuid.UUID) -> list[dict[str, Any]]: ...

    async def revoke(self, brand_id: uuid.UUID, feed_id: uuid.UUID, now: datetime) -> None: ...

    async def by_token(self, token_hash: str) -> dict[str, Any] | None:
        """The feed of a token, of whichever brand (a worker's unit of work: the URL names no brand)."""

    async def jobs(
        self, brand_id: uuid.UUID, scope: FeedScope, start: datetime, end: datetime, limit: int
    ) -> list[FeedJob]:
        """The jobs the feed shows, with a time in [start, end), in time order."""


class FeedSubscriptions(Protocol):
    """RSS/Atom subscriptions and the entries their polls saw (service_layer/feeds.py,
    feed_polling.py); rows are dicts with the columns of feed_subscriptions / feed_entries."""

    async def add(self, feed: dict[str, Any]) -> None: ...

    async def get(
        self, brand_id: uuid.UUID, feed_id: uuid.UUID, *, for_update: bool = False
    ) -> dict[str, Any] | None: ...

    async def of_brand(self, brand_id: uuid.UUID) -> list[dict[str, Any]]: ...

    async def update(self, feed_id: uuid.UUID, changes: Mapping[str, Any]) -> None: ...

    async def delete(self, brand_id: uuid.UUID, feed_id: uuid.UUID) -> bool:
        """The subscription and its entries' records (not the posts they made); False: none."""

    async def record_entry(self, entry: dict[str, Any]) -> bool:
        """Records an entry the feed showed; False when it has one with this key already (the
        unique (feed_id, entry_key) decides, so concurrent polls record and post it once)."""

    async def skip_entry(self, feed_id: uuid.UUID, entry_key: str, reason: str) -> None:
        """The recorded entry did not become a post after all (its job was refused: the reason)."""

    async def entries(self, brand_id: uuid.UUID, feed_id: uuid.UUID, limit: int) -> list[dict[str, Any]]:
        """The newest entries first, each with its job's status (job_status; None: no job)."""


class UnitOfWork(Transaction, Protocol):
    """One transaction: the state changes and the events `emit` writes commit together."""

    # Read-only (properties): an implementation's own repository types satisfy them.
    @property
    def jobs(self) -> Jobs: ...

    @property
    def media(self) -> Media: ...

    @property
    def policies(self) -> Policies: ...

    @property
    def connections(self) -> Connections: ...

    @property
    def guardrails(self) -> Guardrails: ...

    @property
    def imports(self) -> Imports: ...

    @property
    def calendar_feeds(self) -> CalendarFeeds: ...

    @property
    def feeds(self) -> FeedSubscriptions: ...


# Deps.uow: opens one, scoped to a brand (aligned_common.units.Opens; tests/unit: in memory).
UnitOfWorkFactory = Opener[UnitOfWork]
