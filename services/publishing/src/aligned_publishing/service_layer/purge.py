"""Soft-deleted jobs past the restore window are removed for good (deleted media: media.py)."""

from __future__ import annotations

from datetime import timedelta

from aligned_common.db import UnitOfWork
from aligned_publishing.service_layer.deps import Deps


async def purge_deleted(deps: Deps, batch: int = 1000) -> int:
    cutoff = deps.clock.now() - timedelta(days=deps.settings.restore_window_days)
    # Cross-brand by nature (every brand's bin is emptied), hence the worker role.
    async with UnitOfWork(deps.pool, deps.schema, role="worker") as uow:
        purged = await uow.conn.fetch(
            """DELETE FROM publishing_jobs WHERE job_id IN (
                   SELECT job_id FROM publishing_jobs WHERE deleted_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
               RETURNING job_id""",
            cutoff,
            batch,
        )
    return len(purged)
