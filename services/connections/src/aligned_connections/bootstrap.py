"""The one place that wires the connections service together."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aligned_common.app import ServiceContext, ServiceDefinition
from aligned_connections.config import Settings
from aligned_connections.entrypoints import http
from aligned_connections.entrypoints.consumers import build_event_router
from aligned_connections.runtime import Runtime
from aligned_connections.service_layer import refresh_scheduler


def build(settings: Settings | None = None) -> ServiceDefinition:
    settings = settings or Settings()
    rt = Runtime(settings)

    async def on_startup(ctx: ServiceContext) -> None:
        # ctx.schema, not "connections": tests run the service under a scratch schema.
        rt.start(ctx.schema, ctx.pool)
        ctx.deps["runtime"] = rt

    async def close_platform_clients(ctx: ServiceContext) -> None:
        # The app factory has no shutdown hook for services; a loop cancelled at shutdown is one.
        try:
            await asyncio.Event().wait()
        finally:
            await rt.stop()

    return ServiceDefinition(
        name="connections",
        settings=settings,
        migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
        http_router=http.router,
        event_router=build_event_router(rt),
        background=[refresh_scheduler.run_forever, close_platform_clients],
        on_startup=on_startup,
        title="Aligned connections",
    )
