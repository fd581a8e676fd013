"""The one place that wires the webhooks service together."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from aligned_common.app import ServiceContext, ServiceDefinition
from aligned_common.clock import Clock, SystemClock
from aligned_webhooks.adapters.providers import ProviderRegistry
from aligned_webhooks.adapters.secret_box import SecretBox
from aligned_webhooks.adapters.ssrf import TargetPolicy
from aligned_webhooks.config import Settings
from aligned_webhooks.entrypoints import api_http, consumers, inbound_http
from aligned_webhooks.entrypoints.delivery_loop import run_delivery_loop
from aligned_webhooks.service_layer.endpoints import EndpointDeps

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


def target_policy(settings: Settings) -> TargetPolicy:
    return TargetPolicy(
        allow_loopback=settings.allow_loopback_targets, allow_http=settings.allow_http_targets
    )


def build(
    name: str = "webhooks", settings: Settings | None = None, *, clock: Clock | None = None
) -> ServiceDefinition:
    """`clock`: where every due, retry, disable and expiry decision gets "now" (tests move it)."""
    settings = settings or Settings()
    clock = clock or SystemClock()

    async def wire(ctx: ServiceContext) -> None:
        box = secret_box(settings)  # fails at startup when the key is missing, not at the first endpoint
        ctx.deps["box"] = box
        ctx.deps["clock"] = clock
        ctx.deps["providers"] = ProviderRegistry.from_secrets(provider_secrets(settings))
        ctx.deps["endpoints"] = EndpointDeps(
            ctx.pool, ctx.schema, box, target_policy(settings), settings.secret_rotation_overlap_s, clock
        )

    http = APIRouter()
    http.include_router(inbound_http.router)
    http.include_router(api_http.router)
    definition = ServiceDefinition(
        name=name,
        settings=settings,
        migrations_dir=MIGRATIONS,
        http_router=http,
        event_router=consumers.event_router(name),
        background=[run_delivery_loop],
        on_startup=wire,
        title="Aligned webhooks",
    )
    return definition
