"""The one place that wires the analytics service together."""

from __future__ import annotations

from pathlib import Path

from aligned_analytics.config import Settings
from aligned_analytics.entrypoints import consumers, http, loops
from aligned_analytics.service_layer.scheduler import maintain
from aligned_common.app import ServiceContext, ServiceDefinition


async def _prepare_partitions(ctx: ServiceContext) -> None:
    # Before consuming: every month a normal batch can hit exists, so writes never wait on DDL.
    await maintain(ctx.pool, ctx.schema, ctx.settings)


def build(name: str = "analytics") -> ServiceDefinition:
    """`name` is the schema and the consumer group; tests pass a scratch schema."""
    settings = Settings()
    return ServiceDefinition(
        name=name,
        settings=settings,
        migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
        http_router=http.router,
        event_router=consumers.event_router(name),
        background=[loops.sync_scheduler, loops.partition_maintenance],
        on_startup=_prepare_partitions,
        title="Aligned analytics",
    )
