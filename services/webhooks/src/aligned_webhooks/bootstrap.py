"""The one place that wires the webhooks service together."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import APIRouter

from aligned_common.app import Database, ServiceDefinition
from aligned_common.clock import Clock, SystemClock
from aligned_common.retention import Retention
from aligned_common.units import Opens
from aligned_webhooks.adapters.providers import ProviderRegistry
from aligned_webhooks.adapters.secret_box import SecretBox
from aligned_webhooks.adapters.sender import PerHostTransport
from aligned_webhooks.adapters.unit_of_work import SqlUnitOfWork
from aligned_webhooks.config import Settings
from aligned_webhooks.entrypoints import api_http, consumers, inbound_http
from aligned_webhooks.entrypoints.delivery_loop import run_delivery_loop
from aligned_webhooks.service_layer.deps import Deps

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def provider_secrets(settings: Settings) -> dict[str, list[str]]:
    secrets = {
        name: [s.get_secret_value() for s in values] for name, values in settings.provider_secrets.items()
    }
    if settings.sandbox_secret is not None:
        secrets.setdefault("sandbox", []).append(settings.sandbox_secret.get_secret_value())
    return secrets


def secret_box(settings: Settings) -> SecretBox:
    return SecretBox.from_settings(
        settings.encryption_key.get_secret_value() if settings.encryption_key else None,
        settings.encryption_old_keys.get_secret_value() if settings.encryption_old_keys else None,
    )


def delivery_client(settings: Settings) -> httpx.AsyncClient:
    # trust_env=False: an HTTP(S)_PROXY from the environment would send requests around the
    # SSRF guard's pinned address.
    # One pool per host name (PerHostTransport): a TLS connection checked for one host never
    # carries another host's request to the same address.
    limits = httpx.Limits(max_connections=settings.delivery_concurrency, max_keepalive_connections=4)
    return httpx.AsyncClient(
        transport=PerHostTransport(limits=limits), timeout=settings.delivery_timeout_s, trust_env=False
    )


async def close_delivery_client(deps: Deps) -> None:
    await deps.close()


# Inbound webhooks (matched or not) and finished outbound deliveries, with their attempts
# (ON DELETE CASCADE), are kept for the settings' days, then purged (aligned_common.retention).
RETENTION = [
    Retention("webhook_events", "received_at", "inbound_events_retention_s"),
    Retention("deliveries", "finished_at", "deliveries_retention_s", "status <> 'pending'"),
]


def build(
    settings: Settings | None = None, *, name: str = "webhooks", clock: Clock | None = None
) -> ServiceDefinition:
    """`clock`: where every due, retry, disable and expiry decision gets "now" (tests move it)."""
    settings = settings or Settings()
    database = Database(settings, name)
    deps = Deps(
        settings=settings,
        database=database,
        units=Opens(SqlUnitOfWork, database),
        box=secret_box(settings),  # fails when built if the key is missing, not at the first endpoint
        providers=ProviderRegistry.from_secrets(
            provider_secrets(settings),
            {name: token.get_secret_value() for name, token in settings.provider_verify_tokens.items()},
        ),
        client=delivery_client(settings),
        clock=clock or SystemClock(),
    )
    http = APIRouter()
    http.include_router(inbound_http.router)
    http.include_router(api_http.router)
    return ServiceDefinition(
        name=name,
        settings=settings,
        migrations_dir=MIGRATIONS,
        http_router=http,
        event_router=consumers.event_router(name),
        background=[run_delivery_loop],
        on_shutdown=close_delivery_client,
        retention=RETENTION,
        database=database,
        deps=deps,
        title="Aligned webhooks",
    )
