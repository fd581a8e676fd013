"""The one place that wires the publishing service together."""

from __future__ import annotations

from pathlib import Path

from aligned_common.app import ServiceContext, ServiceDefinition
from aligned_common.clock import Clock, SystemClock
from aligned_publishing.adapters.object_store import S3ObjectStore
from aligned_publishing.config import Settings
from aligned_publishing.entrypoints import consumers, http, loops
from aligned_publishing.service_layer.deps import Deps

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def object_store(settings: Settings) -> S3ObjectStore:
    return S3ObjectStore(
        endpoint_url=settings.s3_endpoint_url,
        public_endpoint_url=settings.s3_public_endpoint_url,
        bucket=settings.s3_bucket,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
    )


def build(
    schema: str = "publishing", *, settings: Settings | None = None, clock: Clock | None = None
) -> ServiceDefinition:
    """`schema` is also the consumer group suffix, so a test's scratch copy of the service
    never shares a consumer group with another copy."""
    settings = settings or Settings()
    store = object_store(settings)
    deps = Deps(settings=settings, clock=clock or SystemClock(), storage=store, schema=schema)

    async def on_startup(ctx: ServiceContext) -> None:
        await store.__aenter__()
        deps.pool, deps.schema = ctx.pool, ctx.schema
        ctx.deps["publishing"] = deps

    async def on_shutdown(ctx: ServiceContext) -> None:
        await store.__aexit__(None, None, None)

    return ServiceDefinition(
        name=schema,
        settings=settings,
        migrations_dir=MIGRATIONS,
        http_router=http.router,
        event_router=consumers.build_router(deps, service=schema),
        background=[loops.dispatcher, loops.purger],
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        title="Aligned publishing",
    )
