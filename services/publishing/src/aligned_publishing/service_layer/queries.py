"""Reads: the calendar / status list with cursor pagination, full-text search, one job in full."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime

import orjson

from aligned_common.db import UnitOfWork
from aligned_common.identity import Identity
from aligned_publishing.adapters import jobs_repo as repo
from aligned_publishing.service_layer.deps import Deps
from aligned_publishing.service_layer.errors import invalid, not_found


@dataclass(frozen=True)
class JobFilter:
    start: datetime | None = None  # calendar range on scheduled_at (drafts: created_at)
    end: datetime | None = None
    statuses: tuple[str, ...] = ()
    q: str | None = None
    deleted: bool = False  # the bin: soft-deleted jobs still restorable
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class Page:
    jobs: list[repo.Record]
    targets: dict[uuid.UUID, list[repo.Record]]
    next_cursor: str | None


def _encode(values: list) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode()


def _decode(cursor: str) -> list:
    try:
        return orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
    except Exception:
        raise invalid("cursor", "not a cursor this API returned") from None


def _tsquery(param: str) -> str:
    # Content is matched stemmed (english), tags as written (simple).
    return f"(websearch_to_tsquery('english', {param}) || websearch_to_tsquery('simple', {param}))"


async def list_jobs(deps: Deps, identity: Identity, f: JobFilter) -> Page:
    where = ["brand_id = $1", "deleted_at IS NOT NULL" if f.deleted else "deleted_at IS NULL"]
    args: list = [identity.brand_id]

    def arg(value) -> str:
        args.append(value)
        return f"${len(args)}"

    if f.start:
        where.append(f"calendar_at >= {arg(f.start)}")
    if f.end:
        where.append(f"calendar_at < {arg(f.end)}")
    if f.statuses:
        where.append(f"status = ANY({arg(list(f.statuses))})")
    if f.q:
        # Ranked results page by offset: a rank is not a stable key to seek on.
        offset = int(_decode(f.cursor)[0]) if f.cursor else 0
        query = _tsquery(arg(f.q))
        where.append(f"search @@ {query}")
        sql = (
            f"SELECT *, ts_rank(search, {query}) AS rank FROM publishing_jobs WHERE {' AND '.join(where)} "
            f"ORDER BY rank DESC, job_id LIMIT {arg(f.limit + 1)} OFFSET {arg(offset)}"
        )
        next_cursor = lambda rows: _encode([offset + f.limit])  # noqa: E731
    else:
        if f.cursor:
            at, last_id = _decode(f.cursor)
            where.append(
                f"(calendar_at, job_id) > ({arg(datetime.fromisoformat(at))}, {arg(uuid.UUID(last_id))})"
            )
        sql = (
            f"SELECT * FROM publishing_jobs WHERE {' AND '.join(where)} "
            f"ORDER BY calendar_at, job_id LIMIT {arg(f.limit + 1)}"
        )
        next_cursor = lambda rows: _encode([rows[-1]["calendar_at"].isoformat(), str(rows[-1]["job_id"])])  # noqa: E731
    async with UnitOfWork(deps.pool, deps.schema, brand_id=identity.brand_id) as uow:
        rows = await uow.conn.fetch(sql, *args)
        page = rows[: f.limit]
        targets = await _targets_of(uow, [r["job_id"] for r in page])
    return Page(page, targets, next_cursor(page) if len(rows) > f.limit else None)


async def _targets_of(uow: UnitOfWork, job_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[repo.Record]]:
    found: dict[uuid.UUID, list[repo.Record]] = {job_id: [] for job_id in job_ids}
    for row in await uow.conn.fetch(
        "SELECT * FROM publishing_targets WHERE job_id = ANY($1) ORDER BY job_id, position", job_ids
    ):
        found[row["job_id"]].append(row)
    return found


async def get_job(deps: Deps, identity: Identity, job_id: uuid.UUID):
    async with UnitOfWork(deps.pool, deps.schema, brand_id=identity.brand_id) as uow:
        job = await repo.load_job(uow.conn, job_id)
        if job is None or job["brand_id"] != identity.brand_id or job["deleted_at"] is not None:
            raise not_found("Job", job_id)
        return job, await repo.load_targets(uow.conn, job_id), await repo.load_logs(uow.conn, job_id)
