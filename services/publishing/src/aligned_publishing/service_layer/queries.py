"""Reads: the calendar / status list with cursor pagination, full-text search, one job in full."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from aligned_common.identity import Identity
from aligned_publishing.adapters.views import Record
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
    jobs: list[Record]
    targets: dict[uuid.UUID, list[Record]]
    next_cursor: str | None


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode()


def _decode(cursor: str) -> list[Any]:
    try:
        values: list[Any] = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        return values
    except Exception:
        raise invalid("cursor", "not a cursor this API returned") from None


async def list_jobs(deps: Deps, identity: Identity, f: JobFilter) -> Page:
    offset, after = 0, None
    next_cursor: Callable[[list[Record]], str]
    if f.q:
        # Ranked results page by offset: a rank is not a stable key to seek on.
        offset = int(_decode(f.cursor)[0]) if f.cursor else 0
        next_cursor = lambda rows: _encode([offset + f.limit])  # noqa: E731
    else:
        if f.cursor:
            at, last_id = _decode(f.cursor)
            after = (datetime.fromisoformat(at), uuid.UUID(last_id))
        next_cursor = lambda rows: _encode([rows[-1]["calendar_at"].isoformat(), str(rows[-1]["job_id"])])  # noqa: E731
    async with deps.sql_uow(identity.brand_id) as uow:
        rows = await uow.views.jobs(
            identity.brand_id,
            deleted=f.deleted,
            start=f.start,
            end=f.end,
            statuses=f.statuses,
            q=f.q,
            limit=f.limit + 1,
            offset=offset,
            after=after,
        )
        page = rows[: f.limit]
        targets = await uow.views.targets_of([r["job_id"] for r in page])
    return Page(page, targets, next_cursor(page) if len(rows) > f.limit else None)


async def get_job(
    deps: Deps, identity: Identity, job_id: uuid.UUID
) -> tuple[Record, list[Record], list[Record]]:
    async with deps.sql_uow(identity.brand_id) as uow:
        job = await uow.views.job(job_id)
        if job is None or job["brand_id"] != identity.brand_id or job["deleted_at"] is not None:
            raise not_found("Job", job_id)
        return job, await uow.views.targets(job_id), await uow.views.logs(job_id)
