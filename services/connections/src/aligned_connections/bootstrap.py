"""The one place that wires the connections service together."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import httpx

from aligned_common.app import Database, ServiceDefinition
from aligned_common.clock import Clock, SystemClock
from aligned_common.units import Opens
from aligned_connections.adapters.crypto import TokenCipher
from aligned_connections.adapters.registry import build_registry
from aligned_connections.adapters.sharded_client import HTTP_SHARDS, ShardedClient
from aligned_connections.adapters.unit_of_work import SqlUnitOfWork
from aligned_connections.adapters.vault import TokenVault
from aligned_connections.config import Settings
from aligned_connections.entrypoints import http
from aligned_connections.entrypoints.consumers import build_event_router
from aligned_connections.service_layer import engagement, refresh_scheduler
from aligned_connections.service_layer.deps import Deps

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def build_deps(settings: Settings, database: Database, clock: Clock) -> Deps:
    # Fail when the service is built, not at the first token: a service without keys cannot do its job.
    vault = TokenVault(
        TokenCipher.from_config(
            settings.encryption_keys.get_secret_value() if settings.encryption_keys else None,
            settings.active_key_id,
        )
    )
    if settings.state_secret is None or len(settings.state_secret.get_secret_value()) < 16:
        raise RuntimeError("ALIGNED_CONNECTIONS_STATE_SECRET must be set (at least 16 characters)")
    # Room for every platform's calls at their cap (and media downloads) without queueing in
    # httpx's pool, whose wait times out after the connect timeout: calls wait for a slot at
    # `platform_slot` instead. Kept-alive sockets stay at httpx's default of 20: keeping one
    # per call in flight made 128 concurrent 1 s calls to the sandbox go at 40/s instead of
    # 100/s (measured, docs/performance.md).
    client = ShardedClient(HTTP_SHARDS, max_connections=3 * settings.platform_max_in_flight + 32)
    return Deps(
        settings=settings,
        database=database,
        units=Opens(SqlUnitOfWork, database),
        vault=vault,
        state_secret=settings.state_secret.get_secret_value().encode(),
        # The adapters call request, stream, get and post, which the sharded client offers.
        platforms=build_registry(settings, cast(httpx.AsyncClient, client)),
        http=client,
        clock=clock,
    )


async def close_platform_clients(deps: Deps) -> None:
    await deps.close()


def build(
    settings: Settings | None = None, *, name: str = "connections", clock: Clock | None = None
) -> ServiceDefinition:
    settings = settings or Settings()
    database = Database(settings, name)
    deps = build_deps(settings, database, clock or SystemClock())
    return ServiceDefinition(
        name=name,
        settings=settings,
        migrations_dir=MIGRATIONS,
        http_router=http.router,
        event_router=build_event_router(deps, service=name),
        background=[refresh_scheduler.run_forever, engagement.run_forever],
        on_shutdown=close_platform_clients,
        database=database,
        deps=deps,
        title="Aligned connections",
    )
