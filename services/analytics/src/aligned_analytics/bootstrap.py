"""The one place that wires the analytics service together."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from aligned_analytics.adapters.unit_of_work import SqlUnitOfWork
from aligned_analytics.config import Settings
from aligned_analytics.entrypoints import consumers, http, loops, report_http
from aligned_analytics.service_layer.deps import Deps
from aligned_analytics.service_layer.scheduler import maintain
from aligned_common.app import Database, ServiceDefinition
from aligned_common.clock import Clock, SystemClock
from aligned_common.units import Opens


async def _prepare_partitions(deps: Deps) -> None:
    # Before consuming: every month a normal batch can hit exists, so writes never wait on DDL.
    await maintain(deps.uows, deps.settings)


def _routes() -> APIRouter:
    routes = APIRouter()
    routes.include_router(http.router)
    routes.include_router(report_http.router)  # report links and the public /report page
    return routes


def build(
    settings: Settings | None = None, *, name: str = "analytics", clock: Clock | None = None
) -> ServiceDefinition:
    """`name` is the schema and the consumer group; tests pass a scratch schema."""
    settings = settings or Settings()
    database = Database(settings, name)
    deps = Deps(
        settings=settings,
        database=database,
        uows=Opens(SqlUnitOfWork, database),
        replica=Opens(SqlUnitOfWork, database, replica=True),
        clock=clock or SystemClock(),
    )
    return ServiceDefinition(
        name=name,
        settings=settings,
        migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
        http_router=_routes(),
        event_router=consumers.event_router(name, deps),
        background=[loops.sync_scheduler, loops.partition_maintenance],
        on_startup=_prepare_partitions,
        title="Aligned analytics",
        database=database,
        deps=deps,
    )
