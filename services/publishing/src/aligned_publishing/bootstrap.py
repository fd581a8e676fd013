"""The one place that wires the publishing service together."""

from __future__ import annotations

from pathlib import Path

from aligned_common.app import ServiceContext, ServiceDefinition

from aligned_publishing.adapters.media_storage import LocalFileStorage
from aligned_publishing.config import Settings
from aligned_publishing.domain.clock import Clock, SystemClock
from aligned_publishing.entrypoints import consumers, http, loops
from aligned_publishing.service_layer.deps import Deps

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def build(
    schema: str = "publishing", *, settings: Settings | None = None, clock: Clock | None = None
) -> ServiceDefinition:
    """`schema` is also the consumer group suffix, so a test's scratch copy of the service
    never shares a consumer group with another copy."""
    settings = settings or Settings()
    deps = Deps(
        settings=settings, clock=clock or SystemClock(), storage=LocalFileStorage(settings.media_dir), schema=schema
    )

    async def on_startup(ctx: ServiceContext) -> None:
        deps.pool, deps.schema = ctx.pool, ctx.schema
        ctx.deps["publishing"] = deps

    return ServiceDefinition(
        name=schema,
        settings=settings,
        migrations_dir=MIGRATIONS,
        http_router=http.router,
        event_router=consumers.build_router(deps, service=schema),
        background=[loops.dispatcher, loops.purger],
        on_startup=on_startup,
        title="Aligned publishing",
    )
