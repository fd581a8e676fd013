"""The one place that wires the approval service together."""

from __future__ import annotations

from pathlib import Path

from aligned_approval.adapters.mailer import SmtpMailer
from aligned_approval.adapters.unit_of_work import SqlUnitOfWork
from aligned_approval.config import Settings
from aligned_approval.entrypoints import consumers, http, loops
from aligned_approval.service_layer import audit
from aligned_approval.service_layer.deps import Deps
from aligned_common.app import Database, ServiceDefinition
from aligned_common.clock import Clock, SystemClock
from aligned_common.units import Opens

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def build(
    settings: Settings | None = None, *, name: str = "approval", clock: Clock | None = None
) -> ServiceDefinition:
    """`name` is the schema and the consumer groups' suffix; tests pass a scratch schema
    (the routers are named here, so `definition.name = ...` after build() is not enough)."""
    settings = settings or Settings()
    database = Database(settings, name)
    deps = Deps(
        settings=settings,
        database=database,
        uows=Opens(SqlUnitOfWork, database),
        clock=clock or SystemClock(),
        mailer=SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            timeout_s=settings.smtp_timeout_s,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls,
        ),
    )

    async def on_startup(deps: Deps) -> None:
        deps.settings.link_secret_bytes()  # refuse to start without the link secret
        await audit.prepare_partitions(
            deps.uows, months_ahead=deps.settings.audit_months_ahead, now=deps.clock.now()
        )

    return ServiceDefinition(
        name=name,
        settings=settings,
        migrations_dir=MIGRATIONS,
        http_router=http.all_routes(),
        # Two consumer groups: the workflow and the audit trail (see entrypoints/consumers.py).
        event_router=consumers.workflow_router(name, deps),
        extra_event_routers=[consumers.audit_router(name)],
        background=[loops.escalation_timer, loops.mail_sender, loops.digest_timer, loops.audit_maintenance],
        on_startup=on_startup,
        title="Aligned approval",
        database=database,
        deps=deps,
    )
