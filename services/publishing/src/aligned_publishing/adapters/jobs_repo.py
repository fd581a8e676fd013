"""SQL for jobs, targets and the attempt log (asyncpg; unqualified names, the UoW sets search_path).

Lock order everywhere: the job row first, then its targets. The dispatcher takes both with
SKIP LOCKED, so it never waits and never joins a deadlock cycle.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any, TypeAlias

import asyncpg
import orjson

from aligned_common.db import Params, outbox_insert
from aligned_common.envelope import EventEnvelope
from aligned_common.platforms import MediaInfo
from aligned_common.units import Repository
from aligned_publishing.adapters.variants import variants_of
from aligned_publishing.domain.content_fit import TargetDraft
from aligned_publishing.domain.job import UNSENT_TARGET, Job
from aligned_publishing.domain.retry import idempotency_key
from aligned_publishing.domain.status import JobStatus, TargetStatus

Record: TypeAlias = asyncpg.Record
UNSENT = [s.value for s in UNSENT_TARGET]  # bound as a parameter: status = ANY($n)
# The jobs a policy change re-assesses: those not yet dispatched.
NOT_DISPATCHED = [
    s.value
    for s in (
        JobStatus.DRAFT,
        JobStatus.CHANGES_REQUESTED,
        JobStatus.PENDING_APPROVAL,
        JobStatus.READY,
        JobStatus.SCHEDULED,
    )
]


def _value(value: object) -> object:
    """Statuses are StrEnums; asyncpg binds their value."""
    return value.value if isinstance(value, Enum) else value


async def load_job(conn: asyncpg.Connection, job_id: uuid.UUID, *, for_update: bool = False) -> Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT * FROM publishing_jobs WHERE job_id = $1{lock}", job_id)


# A target row with its first comment, if it has one (the comment's row as JSON text, `comment`):
# a scalar subquery, so that FOR UPDATE locks the target alone.
TARGETS_WITH_COMMENT = """SELECT t.*, (SELECT to_jsonb(c) FROM publishing_comments c
                                      WHERE c.target_id = t.target_id)::text AS comment
                             FROM publishing_targets t"""


async def load_targets(
    conn: asyncpg.Connection, job_id: uuid.UUID, *, for_update: bool = False
) -> list[Record]:
    lock = " FOR UPDATE OF t" if for_update else ""
    return await conn.fetch(f"{TARGETS_WITH_COMMENT} WHERE t.job_id = $1 ORDER BY t.position{lock}", job_id)


def comment_of(target: Record | dict[str, Any]) -> dict[str, Any] | None:
    """A target's first comment row (text, status, remote_id, url, ...), or None."""
    raw = target.get("comment")
    if raw is None:
        return None
    parsed: dict[str, Any] = orjson.loads(raw) if isinstance(raw, str) else raw
    return parsed


def comment_key(target_key: str) -> str:
    """The first comment's idempotency key: its own, derived from its target's (stable too)."""
    return target_key + COMMENT_KEY_SUFFIX


COMMENT_KEY_SUFFIX = ":comment"


# What an outcome reads of its job (lock_job_and_targets returns them beside each target's row).
OUTCOME_JOB_COLUMNS = (
    "job_id",
    "brand_id",
    "tenant_id",
    "status",
    "status_reason",
    "max_retries",
    "retry_count",
)


async def lock_job_and_targets(
    conn: asyncpg.Connection, job_id: uuid.UUID
) -> tuple[dict | None, list[Record]]:
    """The job and all its targets, locked, in one statement (for an outcome: it decides from
    every target's status). The job is locked first: its CTE yields the row the join needs
    before any target is locked. Every writer of a target holds its job's lock first (or skips
    locked rows), so locking all of them adds no wait. FOR UPDATE also returns each row as last
    committed, not as the statement's snapshot saw it: the statement may have waited for the
    job while another outcome of the job finished a sibling target, and must see that."""
    job_columns = ", ".join(f"job.{c} AS job_{c}" for c in OUTCOME_JOB_COLUMNS)
    rows = await conn.fetch(
        f"""WITH job AS MATERIALIZED (SELECT * FROM publishing_jobs WHERE job_id = $1 FOR UPDATE)
            SELECT {job_columns}, t.*
              FROM job JOIN publishing_targets t ON t.job_id = job.job_id
             ORDER BY t.position
               FOR UPDATE OF t""",
        job_id,
    )
    if not rows:
        return None, []
    return {c: rows[0][f"job_{c}"] for c in OUTCOME_JOB_COLUMNS}, rows


async def load_logs(conn: asyncpg.Connection, job_id: uuid.UUID) -> list[Record]:
    """Finished attempts from the log, plus each attempt still in flight (from its target)."""
    return await conn.fetch(
        """SELECT target_id, attempt, idempotency_key, started_at, finished_at, outcome, remote_id, url, error,
                  platform_message, retry_at, rechecks
             FROM publishing_logs WHERE job_id = $1
           UNION ALL
           SELECT target_id, attempts, idempotency_key, requested_at, NULL, NULL, NULL, NULL, NULL, NULL, NULL, rechecks
             FROM publishing_targets t
            WHERE job_id = $1 AND status = $2 AND NOT EXISTS (
                  SELECT 1 FROM publishing_logs l WHERE l.target_id = t.target_id AND l.attempt = t.attempts)
           ORDER BY started_at, target_id, attempt""",
        job_id,
        TargetStatus.PUBLISHING.value,
    )


async def insert_job(conn: asyncpg.Connection, values: dict) -> Record:
    columns = ", ".join(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    return await conn.fetchrow(
        f"INSERT INTO publishing_jobs ({columns}) VALUES ({placeholders}) RETURNING *", *values.values()
    )


def _job_update(params: Params, job_id: uuid.UUID, now: datetime, changes: dict) -> str:
    assignments = "".join(f"{column} = {params(_value(value))}, " for column, value in changes.items())
    return (
        f"UPDATE publishing_jobs SET {assignments}updated_at = {params(now)}, version = version + 1"
        f" WHERE job_id = {params(job_id)}"
    )


async def update_job(conn: asyncpg.Connection, job_id: uuid.UUID, now: datetime, **changes) -> Record:
    params = Params()
    return await conn.fetchrow(_job_update(params, job_id, now, changes) + " RETURNING *", *params.values)


async def replace_targets(
    conn: asyncpg.Connection, job_id: uuid.UUID, brand_id: uuid.UUID, targets: Sequence[TargetDraft]
) -> None:
    """Targets are replaced whole on edit: nothing of theirs has gone out (the job is not locked).
    A target keeps its id (and so its idempotency key) when the same connection stays."""
    existing = {row["connection_id"]: row["target_id"] for row in await load_targets(conn, job_id)}
    await conn.execute("DELETE FROM publishing_targets WHERE job_id = $1", job_id)
    rows = []
    for position, target in enumerate(targets):
        target_id = existing.get(target.connection_id) or uuid.uuid4()
        media = list(target.media_ids) if target.media_ids is not None else None
        rows.append(
            (
                target_id,
                job_id,
                brand_id,
                position,
                target.platform.lower(),
                target.connection_id,
                target.text,
                media,
                orjson.dumps({str(k): v for k, v in target.alt_texts.items()}).decode()
                if target.alt_texts
                else None,
                idempotency_key(job_id, target_id),
                target.first_comment is not None,
                orjson.dumps(dict(target.platform_options)).decode() if target.platform_options else None,
            )
        )
    await conn.executemany(
        """INSERT INTO publishing_targets (target_id, job_id, brand_id, position, platform, connection_id,
                                           text_variant, media_variant, alt_text_variant, idempotency_key,
                                           has_first_comment, platform_options)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
        rows,
    )
    comments = [
        (row[0], job_id, brand_id, target.first_comment, comment_key(row[9]))
        for row, target in zip(rows, targets, strict=True)
        if target.first_comment is not None
    ]
    if comments:  # the DELETE above took the old ones with their targets (ON DELETE CASCADE)
        await conn.executemany(
            """INSERT INTO publishing_comments (target_id, job_id, brand_id, text, idempotency_key)
               VALUES ($1, $2, $3, $4, $5)""",
            comments,
        )


async def replace_media_usage(
    conn: asyncpg.Connection, job_id: uuid.UUID, brand_id: uuid.UUID, media_ids: set[uuid.UUID], now: datetime
) -> None:
    """The job uses exactly these assets now; what changed is appended to media_usage_logs."""
    before = {
        r["media_id"]
        for r in await conn.fetch("DELETE FROM media_usage WHERE job_id = $1 RETURNING media_id", job_id)
    }
    await conn.executemany(
        "INSERT INTO media_usage (media_id, job_id, brand_id) VALUES ($1, $2, $3)",
        [(media_id, job_id, brand_id) for media_id in media_ids],
    )
    changes = [(m, "attached") for m in media_ids - before] + [(m, "detached") for m in before - media_ids]
    await conn.executemany(
        "INSERT INTO media_usage_logs (media_id, job_id, brand_id, action, at) VALUES ($1, $2, $3, $4, $5)",
        [(media_id, job_id, brand_id, action, now) for media_id, action in changes],
    )


async def schedule_targets(
    conn: asyncpg.Connection, job_id: uuid.UUID, due_at: datetime, now: datetime
) -> int:
    """Make the job's unfinished targets due at `due_at`; those whose connection is on hold
    are held at once with its reason. Returns how many are held."""
    await conn.execute(
        """UPDATE publishing_targets t
              SET status = CASE WHEN x.reason IS NULL THEN $5 ELSE $6 END,
                  next_attempt_at = CASE WHEN x.reason IS NULL THEN $2::timestamptz END,
                  held_reason = x.reason, due_at = $2, updated_at = $3
             FROM (SELECT t2.target_id, h.reason
                     FROM publishing_targets t2 LEFT JOIN connection_holds h USING (connection_id)
                    WHERE t2.job_id = $1) x
            WHERE t.target_id = x.target_id AND t.status = ANY($4)""",
        job_id,
        due_at,
        now,
        UNSENT,
        TargetStatus.SCHEDULED.value,
        TargetStatus.HELD.value,
    )
    held: int = await conn.fetchval(
        "SELECT count(*) FROM publishing_targets WHERE job_id = $1 AND status = $2",
        job_id,
        TargetStatus.HELD.value,
    )
    return held


async def park_targets(
    conn: asyncpg.Connection, job_id: uuid.UUID, status: TargetStatus, now: datetime
) -> None:
    """Unfinished targets stop being due (back to waiting, or cancelled)."""
    await conn.execute(
        """UPDATE publishing_targets SET status = $2, next_attempt_at = NULL, updated_at = $3
            WHERE job_id = $1 AND status = ANY($4)""",
        job_id,
        status.value,
        now,
        UNSENT,
    )


def _target_update(params: Params, target_id: uuid.UUID, now: datetime, changes: dict) -> str:
    assignments = "".join(f"{column} = {params(_value(value))}, " for column, value in changes.items())
    return (
        f"UPDATE publishing_targets SET {assignments}updated_at = {params(now)}"
        f" WHERE target_id = {params(target_id)}"
    )


async def update_target(conn: asyncpg.Connection, target_id: uuid.UUID, now: datetime, **changes) -> Record:
    params = Params()
    return await conn.fetchrow(
        _target_update(params, target_id, now, changes) + " RETURNING *", *params.values
    )


def _attempt_insert(
    params: Params, target: Record, attempt: int, now: datetime, outcome: str, values: dict
) -> str:
    row = {
        "target_id": target["target_id"],
        "attempt": attempt,
        "brand_id": target["brand_id"],
        "job_id": target["job_id"],
        "idempotency_key": target["idempotency_key"],
        "started_at": target["requested_at"] or now,
        "finished_at": now,
        "outcome": outcome,
        "rechecks": target["rechecks"],
        **values,
    }
    updates = ", ".join(f"{c} = excluded.{c}" for c in list(row)[6:])
    return (
        f"INSERT INTO publishing_logs ({', '.join(row)}) VALUES ({', '.join(map(params, row.values()))})"
        f" ON CONFLICT (target_id, attempt) DO UPDATE SET {updates}"
    )


async def record_attempt(
    conn: asyncpg.Connection, target: Record, attempt: int, now: datetime, outcome: str, **values
) -> None:
    """The attempt's row in the log, written once its outcome is known; a later answer for the
    same attempt (a post that did go out after all) overwrites the earlier one."""
    params = Params()
    await conn.execute(_attempt_insert(params, target, attempt, now, outcome, values), *params.values)


PUBLISHED_MEDIA = "published"  # media_usage_logs.action (beside attached / detached)


class Writes:
    """An outcome's writes gathered into one statement of data-modifying CTEs: one round trip
    instead of one per write (round trips are most of a post's cost, docs/performance.md).
    The parts run on one snapshot and none sees another's rows, so each row is written by at
    most one part: changes to the job are merged into one UPDATE."""

    def __init__(self) -> None:
        self._params = Params()
        self._parts: list[str] = []
        self._job: tuple[uuid.UUID, datetime, dict] | None = None

    def update_target(self, target: Record, now: datetime, **changes) -> dict:
        """Returns the target as it will be."""
        self._parts.append(_target_update(self._params, target["target_id"], now, changes))
        return {**target, **changes, "updated_at": now}

    def record_attempt(self, target: Record, attempt: int, now: datetime, outcome: str, **values) -> None:
        self._parts.append(_attempt_insert(self._params, target, attempt, now, outcome, values))

    def update_job(self, job: Record, now: datetime, **changes) -> dict:
        """Returns the job as it will be."""
        merged = (self._job[2] if self._job else {}) | changes
        self._job = (job["job_id"], now, merged)
        return {**job, **merged, "updated_at": now}

    def log_media_published(self, job_id: uuid.UUID, now: datetime) -> None:
        """The job's assets' usage history says they went out."""
        self._parts.append(
            "INSERT INTO media_usage_logs (media_id, job_id, brand_id, action, at)"
            f" SELECT media_id, job_id, brand_id, {self._params(PUBLISHED_MEDIA)}::text,"
            f" {self._params(now)}::timestamptz"
            f" FROM media_usage WHERE job_id = {self._params(job_id)}"
        )

    def emit(self, envelope: EventEnvelope) -> None:
        """The envelope's outbox row (made with UnitOfWork.event)."""
        self._parts.append(outbox_insert(envelope, self._params))

    async def run(self, conn: asyncpg.Connection) -> None:
        parts = list(self._parts)
        if self._job is not None:
            parts.append(_job_update(self._params, *self._job))
        if not parts:
            return
        ctes = ", ".join(f"w{n} AS ({sql})" for n, sql in enumerate(parts))
        await conn.execute(f"WITH {ctes} SELECT 1", *self._params.values)


async def media_infos(
    conn: asyncpg.Connection, brand_id: uuid.UUID, media_ids: Sequence[uuid.UUID]
) -> list[Record]:
    """The brand's assets among these ids: another brand's id is not found (RLS, and the filter)."""
    if not media_ids:
        return []
    return await conn.fetch(
        "SELECT media_id, mime_type, size_bytes, duration_s, video_codec, variants FROM media_assets"
        " WHERE brand_id = $1 AND media_id = ANY($2)"
        " AND deleted_at IS NULL",
        brand_id,
        list(set(media_ids)),
    )


async def alt_texts(
    conn: asyncpg.Connection, brand_id: uuid.UUID, media_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """media_id -> its alt text ('' when none was given), for the brand's assets among these ids."""
    if not media_ids:
        return {}
    rows = await conn.fetch(
        "SELECT media_id, alt_text FROM media_assets WHERE brand_id = $1 AND media_id = ANY($2)",
        brand_id,
        list(set(media_ids)),
    )
    return {r["media_id"]: r["alt_text"] for r in rows}


def platform_options_of(target: Record | dict[str, Any]) -> dict[str, Any] | None:
    """A target's per-platform fields (name -> string or boolean), or None; the jsonb arrives as text."""
    raw = target.get("platform_options")
    if raw is None:
        return None
    parsed: dict[str, Any] = orjson.loads(raw) if isinstance(raw, str) else raw
    return parsed


def alt_text_variant(target: Record) -> dict[uuid.UUID, str] | None:
    """A target's own alt texts (media_id -> text), or None; the jsonb arrives as text."""
    raw = target["alt_text_variant"]
    if raw is None:
        return None
    return {uuid.UUID(k): v for k, v in (orjson.loads(raw) if isinstance(raw, str) else raw).items()}


async def not_dispatched(conn: asyncpg.Connection, brand_id: uuid.UUID) -> list[Record]:
    return await conn.fetch(
        """SELECT * FROM publishing_jobs WHERE brand_id = $1 AND deleted_at IS NULL AND status = ANY($2)
            ORDER BY job_id FOR UPDATE""",
        brand_id,
        NOT_DISPATCHED,
    )


class SqlJobs(Repository):
    """service_layer.ports.Jobs over the unit of work's connection."""

    async def get(self, job_id: uuid.UUID, *, for_update: bool = False) -> Job | None:
        row = await load_job(self.conn, job_id, for_update=for_update)
        return Job.from_row(row) if row is not None else None

    async def add(self, job: Job) -> None:
        await insert_job(self.conn, {k: _value(v) for k, v in job.row().items()})
        job.changes.clear()

    async def save(self, job: Job, now: datetime) -> None:
        if job.changes:
            params = Params()
            await self.conn.execute(_job_update(params, job.job_id, now, job.changes), *params.values)
            job.saved(now)

    async def set_guardrail_warnings(self, job_id: uuid.UUID, warnings: list[dict[str, Any]]) -> None:
        await self.conn.execute(
            "UPDATE publishing_jobs SET guardrail_warnings = $2::jsonb WHERE job_id = $1",
            job_id,
            orjson.dumps(warnings).decode(),
        )

    async def not_dispatched(self, brand_id: uuid.UUID) -> list[Job]:
        return [Job.from_row(row) for row in await not_dispatched(self.conn, brand_id)]

    async def purge_deleted(self, cutoff: datetime, batch: int) -> int:
        return await purge_deleted(self.conn, cutoff, batch)

    async def targets(self, job_id: uuid.UUID, *, for_update: bool = False) -> list[dict[str, Any]]:
        """The job's targets in order; `alt_text_variant` parsed (media_id -> text, or None)."""
        rows = await load_targets(self.conn, job_id, for_update=for_update)
        return [
            {
                **row,
                "alt_text_variant": alt_text_variant(row),
                "first_comment": (comment_of(row) or {}).get("text"),
                "platform_options": platform_options_of(row),
            }
            for row in rows
        ]

    async def replace_targets(
        self, job_id: uuid.UUID, brand_id: uuid.UUID, targets: Sequence[TargetDraft]
    ) -> None:
        await replace_targets(self.conn, job_id, brand_id, targets)

    async def park_targets(self, job_id: uuid.UUID, status: TargetStatus, now: datetime) -> None:
        await park_targets(self.conn, job_id, status, now)

    async def schedule_targets(self, job_id: uuid.UUID, due_at: datetime, now: datetime) -> int:
        return await schedule_targets(self.conn, job_id, due_at, now)

    async def replace_media_usage(
        self, job_id: uuid.UUID, brand_id: uuid.UUID, media_ids: set[uuid.UUID], now: datetime
    ) -> None:
        await replace_media_usage(self.conn, job_id, brand_id, media_ids, now)


class SqlMedia(Repository):
    """service_layer.ports.Media: what the job commands read of the brand's assets."""

    async def infos(
        self, brand_id: uuid.UUID, media_ids: Sequence[uuid.UUID]
    ) -> tuple[dict[uuid.UUID, MediaInfo], dict[tuple[uuid.UUID, str], MediaInfo]]:
        rows = await media_infos(self.conn, brand_id, media_ids)
        media = {
            r["media_id"]: MediaInfo(
                mime_type=r["mime_type"],
                size_bytes=r["size_bytes"],
                duration_s=r["duration_s"],
                video_codec=r["video_codec"],
            )
            for r in rows
        }
        fitted = {
            (r["media_id"], platform): MediaInfo(mime_type=v["mime_type"], size_bytes=v["size_bytes"])
            for r in rows
            for platform, v in variants_of(r).items()
        }
        return media, fitted

    async def alt_texts(self, brand_id: uuid.UUID, media_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        return await alt_texts(self.conn, brand_id, media_ids)


class SqlTargets(Repository):
    """The outcome path's statements (a target's answer, a hold): rows read by key, the job as
    the few columns an outcome decides from, every write of an outcome in one `Writes`."""

    async def lock_job_and_targets(self, job_id: uuid.UUID) -> tuple[dict[str, Any] | None, list[Record]]:
        return await lock_job_and_targets(self.conn, job_id)

    async def job_row(self, job_id: uuid.UUID) -> Record | None:
        return await load_job(self.conn, job_id)

    async def of_job(self, job_id: uuid.UUID) -> list[Record]:
        return await load_targets(self.conn, job_id)

    async def update(self, target_id: uuid.UUID, now: datetime, **changes: Any) -> None:
        await update_target(self.conn, target_id, now, **changes)

    async def record_attempt(
        self, target: Record, attempt: int, now: datetime, outcome: str, **values: Any
    ) -> None:
        await record_attempt(self.conn, target, attempt, now, outcome, **values)

    async def write(self, writes: Writes) -> None:
        await writes.run(self.conn)


async def purge_deleted(conn: asyncpg.Connection, cutoff: datetime, batch: int) -> int:
    """Jobs deleted before `cutoff` removed for good (their targets and log cascade), a batch at a time."""
    purged = await conn.fetch(
        """DELETE FROM publishing_jobs WHERE job_id IN (
               SELECT job_id FROM publishing_jobs WHERE deleted_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
           RETURNING job_id""",
        cutoff,
        batch,
    )
    return len(purged)
