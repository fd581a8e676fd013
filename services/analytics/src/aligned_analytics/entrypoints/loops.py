"""Background loops: the sync scheduler and partition maintenance. Errors are logged and the
loop goes on: a database blip must not stop syncing for good."""

from __future__ import annotations

import asyncio
import logging

from aligned_analytics.service_layer.scheduler import maintain, schedule_due_syncs
from aligned_common.app import ServiceContext

log = logging.getLogger(__name__)


async def _every(interval_s: float, name: str, work) -> None:
    while True:
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(f"{name} failed; retrying next tick")
        await asyncio.sleep(interval_s)


async def sync_scheduler(ctx: ServiceContext) -> None:
    settings = ctx.settings
    await _every(
        settings.scheduler_tick_s,
        "sync scheduler",
        lambda: schedule_due_syncs(ctx.pool, ctx.schema, settings),
    )


async def partition_maintenance(ctx: ServiceContext) -> None:
    settings = ctx.settings
    await _every(
        settings.maintenance_interval_s,
        "partition maintenance",
        lambda: maintain(ctx.pool, ctx.schema, settings),
    )
