"""SQL for jobs, targets and the attempt log (asyncpg; unqualified names, the UoW sets search_path).

Lock order everywhere: the job row first, then its targets. The dispatcher takes both with
SKIP LOCKED, so it never waits and never joins a deadlock cycle.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg
import orjson

from aligned_publishing.domain.content_fit import TargetDraft
from aligned_publishing.domain.retry import idempotency_key
from aligned_publishing.domain.status import TargetStatus

Record = asyncpg.Record


async def load_job(conn: asyncpg.Connection, job_id: uuid.UUID, *, for_update: bool = False) -> Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT * FROM publishing_jobs WHERE job_id = $1{lock}", job_id)


async def load_targets(conn: asyncpg.Connection, job_id: uuid.UUID, *, for_update: bool = False) -> list[Record]:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetch(f"SELECT * FROM publishing_targets WHERE job_id = $1 ORDER BY position{lock}", job_id)


async def load_logs(conn: asyncpg.Connection, job_id: uuid.UUID) -> list[Record]:
    """Finished attempts from the log, plus each attempt still in flight (from its target)."""
    return await conn.fetch(
        """SELECT target_id, attempt, idempotency_key, started_at, finished_at, outcome, remote_id, url, error,
                  platform_message, retry_at, rechecks
             FROM publishing_logs WHERE job_id = $1
           UNION ALL
           SELECT target_id, attempts, idempotency_key, requested_at, NULL, NULL, NULL, NULL, NULL, NULL, NULL, rechecks
             FROM publishing_targets t
            WHERE job_id = $1 AND status = 'publishing' AND NOT EXISTS (
                  SELECT 1 FROM publishing_logs l WHERE l.target_id = t.target_id AND l.attempt = t.attempts)
           ORDER BY started_at, target_id, attempt""",
        job_id,
    )


async def insert_job(conn: asyncpg.Connection, values: dict) -> Record:
    columns = ", ".join(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    return await conn.fetchrow(
        f"INSERT INTO publishing_jobs ({columns}) VALUES ({placeholders}) RETURNING *", *values.values()
    )


async def update_job(conn: asyncpg.Connection, job_id: uuid.UUID, now: datetime, **changes) -> Record:
    assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changes, start=3))
    return await conn.fetchrow(
        f"""UPDATE publishing_jobs SET {assignments}, updated_at = $2, version = version + 1
             WHERE job_id = $1 RETURNING *""",
        job_id,
        now,
        *changes.values(),
    )


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
                orjson.dumps({str(k): v for k, v in target.alt_texts.items()}).decode() if target.alt_texts else None,
                idempotency_key(job_id, target_id),
            )
        )
    await conn.executemany(
        """INSERT INTO publishing_targets (target_id, job_id, brand_id, position, platform, connection_id,
                                           text_variant, media_variant, alt_text_variant, idempotency_key)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        rows,
    )


async def replace_media_usage(
    conn: asyncpg.Connection, job_id: uuid.UUID, brand_id: uuid.UUID, media_ids: set[uuid.UUID], now: datetime
) -> None:
    """The job uses exactly these assets now; what changed is appended to media_usage_logs."""
    before = {r["media_id"] for r in await conn.fetch("DELETE FROM media_usage WHERE job_id = $1 RETURNING media_id", job_id)}
    await conn.executemany(
        "INSERT INTO media_usage (media_id, job_id, brand_id) VALUES ($1, $2, $3)",
        [(media_id, job_id, brand_id) for media_id in media_ids],
    )
    changes = [(m, "attached") for m in media_ids - before] + [(m, "detached") for m in before - media_ids]
    await conn.executemany(
        "INSERT INTO media_usage_logs (media_id, job_id, brand_id, action, at) VALUES ($1, $2, $3, $4, $5)",
        [(media_id, job_id, brand_id, action, now) for media_id, action in changes],
    )


async def log_media_published(conn: asyncpg.Connection, job_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(
        """INSERT INTO media_usage_logs (media_id, job_id, brand_id, action, at)
           SELECT media_id, job_id, brand_id, 'published', $2 FROM media_usage WHERE job_id = $1""",
        job_id,
        now,
    )


async def schedule_targets(conn: asyncpg.Connection, job_id: uuid.UUID, due_at: datetime, now: datetime) -> int:
    """Make the job's unfinished targets due at `due_at`; those whose connection is on hold
    are held at once with its reason. Returns how many are held."""
    await conn.execute(
        """UPDATE publishing_targets t
              SET status = CASE WHEN x.reason IS NULL THEN 'scheduled' ELSE 'held' END,
                  next_attempt_at = CASE WHEN x.reason IS NULL THEN $2::timestamptz END,
                  held_reason = x.reason, due_at = $2, updated_at = $3
             FROM (SELECT t2.target_id, h.reason
                     FROM publishing_targets t2 LEFT JOIN connection_holds h USING (connection_id)
                    WHERE t2.job_id = $1) x
            WHERE t.target_id = x.target_id AND t.status IN ('waiting', 'scheduled', 'held')""",
        job_id,
        due_at,
        now,
    )
    return await conn.fetchval("SELECT count(*) FROM publishing_targets WHERE job_id = $1 AND status = 'held'", job_id)


async def park_targets(conn: asyncpg.Connection, job_id: uuid.UUID, status: TargetStatus, now: datetime) -> None:
    """Unfinished targets stop being due (back to waiting, or cancelled)."""
    await conn.execute(
        """UPDATE publishing_targets SET status = $2, next_attempt_at = NULL, updated_at = $3
            WHERE job_id = $1 AND status IN ('waiting', 'scheduled', 'held')""",
        job_id,
        status.value,
        now,
    )


async def update_target(conn: asyncpg.Connection, target_id: uuid.UUID, now: datetime, **changes) -> Record:
    assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changes, start=3))
    return await conn.fetchrow(
        f"UPDATE publishing_targets SET {assignments}, updated_at = $2 WHERE target_id = $1 RETURNING *",
        target_id,
        now,
        *changes.values(),
    )


async def record_attempt(
    conn: asyncpg.Connection, target: Record, attempt: int, now: datetime, outcome: str, **values
) -> None:
    """The attempt's row in the log, written once its outcome is known; a later answer for the
    same attempt (a post that did go out after all) overwrites the earlier one."""
    columns = [
        "target_id",
        "attempt",
        "brand_id",
        "job_id",
        "idempotency_key",
        "started_at",
        "finished_at",
        "outcome",
        "rechecks",
        *values,
    ]
    params = [
        target["target_id"],
        attempt,
        target["brand_id"],
        target["job_id"],
        target["idempotency_key"],
        target["requested_at"] or now,
        now,
        outcome,
        target["rechecks"],
        *values.values(),
    ]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[6:])
    await conn.execute(
        f"""INSERT INTO publishing_logs ({", ".join(columns)})
            VALUES ({", ".join(f"${i}" for i in range(1, len(params) + 1))})
            ON CONFLICT (target_id, attempt) DO UPDATE SET {updates}""",
        *params,
    )


async def media_infos(conn: asyncpg.Connection, brand_id: uuid.UUID, media_ids: Sequence[uuid.UUID]) -> list[Record]:
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


async def alt_texts(conn: asyncpg.Connection, brand_id: uuid.UUID, media_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """media_id -> its alt text ('' when none was given), for the brand's assets among these ids."""
    if not media_ids:
        return {}
    rows = await conn.fetch(
        "SELECT media_id, alt_text FROM media_assets WHERE brand_id = $1 AND media_id = ANY($2)",
        brand_id,
        list(set(media_ids)),
    )
    return {r["media_id"]: r["alt_text"] for r in rows}


def alt_text_variant(target: Record) -> dict[uuid.UUID, str] | None:
    """A target's own alt texts (media_id -> text), or None; the jsonb arrives as text."""
    raw = target["alt_text_variant"]
    if raw is None:
        return None
    return {uuid.UUID(k): v for k, v in (orjson.loads(raw) if isinstance(raw, str) else raw).items()}
