"""The one place that wires the approval service together."""

from __future__ import annotations

from pathlib import Path

from aligned_approval.config import Settings
from aligned_approval.entrypoints import consumers, http, loops
from aligned_approval.service_layer import audit
from aligned_common.app import ServiceContext, ServiceDefinition

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def build(name: str = "approval", settings: Settings | None = None) -> ServiceDefinition:
    """`name` is the schema and the consumer groups' suffix; tests pass a scratch schema
    (the routers are named here, so `definition.name = ...` after build() is not enough)."""
    settings = settings or Settings()

    async def on_startup(ctx: ServiceContext) -> None:
        settings.link_secret_bytes()  # refuse to start without the link secret
        await audit.prepare_partitions(ctx.pool, ctx.schema, months_ahead=settings.audit_months_ahead)

    return ServiceDefinition(
        name=name,
        settings=settings,
        migrations_dir=MIGRATIONS,
        http_router=http.all_routes(),
        # Two consumer groups: the workflow and the audit trail (see entrypoints/consumers.py).
        event_router=consumers.workflow_router(name, settings.public_base_url),
        extra_event_routers=[consumers.audit_router(name)],
        background=[
            loops.escalation_timer(settings),
            loops.mail_sender(settings),
            loops.digest_timer(settings),
            loops.audit_maintenance(settings),
        ],
        on_startup=on_startup,
        title="Aligned approval",
    )
