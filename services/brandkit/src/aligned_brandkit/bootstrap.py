"""The one place that wires the service: its dependencies object, built once."""

from __future__ import annotations

from pathlib import Path

from aligned_brandkit.adapters.unit_of_work import SqlUnitOfWork
from aligned_brandkit.config import Settings
from aligned_brandkit.entrypoints import http
from aligned_brandkit.service_layer.deps import Deps
from aligned_common.app import Database, ServiceDefinition
from aligned_common.clock import Clock, SystemClock
from aligned_common.units import Opens


def build(
    settings: Settings | None = None, *, name: str = "brandkit", clock: Clock | None = None
) -> ServiceDefinition:
    settings = settings or Settings()
    database = Database(settings, name)  # name: the schema and the consumer group's suffix
    deps = Deps(settings=settings, uow=Opens(SqlUnitOfWork, database), clock=clock or SystemClock())
    return ServiceDefinition(
        name=name,
        settings=settings,
        migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
        http_router=http.router,
        event_router=None,  # it consumes nothing: the kit is written by people, through the API
        database=database,
        deps=deps,
        title="Aligned brandkit",
    )
