"""Soft-deleted jobs past the restore window are removed for good (deleted media: media.py)."""

from __future__ import annotations

from datetime import timedelta

from aligned_publishing.service_layer.deps import Deps


async def purge_deleted(deps: Deps, batch: int = 1000) -> int:
    cutoff = deps.clock.now() - timedelta(days=deps.settings.restore_window_days)
    # Cross-brand by nature (every brand's bin is emptied), hence the worker role.
    async with deps.sql_uow(role="worker") as uow:
        return await uow.jobs.purge_deleted(cutoff, batch)
