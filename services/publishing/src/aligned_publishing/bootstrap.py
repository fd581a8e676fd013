"""The one place that wires the publishing service together."""

from __future__ import annotations

from pathlib import Path

from aligned_common.app import Database, ServiceDefinition
from aligned_common.clock import Clock, SystemClock
from aligned_common.units import Opens
from aligned_publishing.adapters.object_store import ObjectStore, S3ObjectStore
from aligned_publishing.adapters.unit_of_work import SqlUnitOfWork
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


def make_deps(
    settings: Settings, database: Database, clock: Clock | None = None, storage: ObjectStore | None = None
) -> Deps:
    """The dependencies object over a database (bench/ runs the dispatcher with one too)."""
    return Deps(
        settings=settings,
        database=database,
        clock=clock or SystemClock(),
        storage=storage or object_store(settings),
        uow=Opens(SqlUnitOfWork, database),
    )


def build(
    settings: Settings | None = None, *, name: str = "publishing", clock: Clock | None = None
) -> ServiceDefinition:
    """`name` is the schema and the consumer group suffix, so a test's scratch copy of the
    service never shares a consumer group with another copy."""
    settings = settings or Settings()
    database = Database(settings, name)
    store = object_store(settings)
    deps = make_deps(settings, database, clock, store)

    async def open_store(deps: Deps) -> None:
        await store.__aenter__()

    async def close_store(deps: Deps) -> None:
        await store.__aexit__(None, None, None)

    return ServiceDefinition(
        name=name,
        settings=settings,
        migrations_dir=MIGRATIONS,
        http_router=http.all_routes(),
        event_router=consumers.build_router(deps, service=name),
        background=[loops.dispatcher, loops.purger, loops.comment_dispatcher, loops.feed_poller],
        on_startup=open_store,
        on_shutdown=close_store,
        title="Aligned publishing",
        database=database,
        deps=deps,
    )
