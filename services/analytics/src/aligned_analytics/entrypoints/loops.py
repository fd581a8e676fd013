"""Background loops: the sync scheduler and partition maintenance. Errors are logged and the
loop goes on: a database blip must not stop syncing for good."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aligned_analytics.service_layer.deps import Deps
from aligned_analytics.service_layer.scheduler import maintain, schedule_due_syncs

log = logging.getLogger(__name__)


async def _every(interval_s: float, name: str, work: Callable[[], Awaitable[object]]) -> None:
    while True:
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(f"{name} failed; retrying next tick")
        await asyncio.sleep(interval_s)


async def sync_scheduler(deps: Deps) -> None:
    await _every(
        deps.settings.scheduler_tick_s, "sync scheduler", lambda: schedule_due_syncs(deps.uows, deps.settings)
    )


async def partition_maintenance(deps: Deps) -> None:
    await _every(
        deps.settings.maintenance_interval_s,
        "partition maintenance",
        lambda: maintain(deps.uows, deps.settings),
    )
