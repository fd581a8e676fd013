"""Background loops; each is safe to run in several replicas at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aligned_approval.adapters.mailer import SmtpMailer
from aligned_approval.config import Settings
from aligned_approval.service_layer import audit, digest, escalation, mail
from aligned_common.app import Loop, ServiceContext

log = logging.getLogger(__name__)


async def _forever(
    name: str, interval_s: float, step: Callable[[], Awaitable[object]], *, again_when_busy: bool = False
) -> None:
    while True:
        try:
            did = await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # database blip: log and try again next round
            log.warning("loop round failed", extra={"ctx_loop": name, "ctx_error": repr(exc)})
            did = 0
        # A round that found work may have left more behind: go again at once.
        if not (again_when_busy and isinstance(did, int) and did > 0):
            await asyncio.sleep(interval_s)


def escalation_timer(settings: Settings) -> Loop:
    async def escalation_timer(ctx: ServiceContext) -> None:
        await _forever(
            "escalation_timer",
            settings.escalation_interval_s,
            lambda: escalation.tick(
                ctx.pool, ctx.schema, hour_s=settings.escalation_hour_s, base_url=settings.public_base_url
            ),
        )

    return escalation_timer


def mail_sender(settings: Settings) -> Loop:
    mailer = SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.mail_from,
        timeout_s=settings.smtp_timeout_s,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls,
    )

    async def mail_sender(ctx: ServiceContext) -> None:
        await _forever(
            "mail_sender",
            settings.mail_interval_s,
            lambda: mail.send_due(
                ctx.pool,
                ctx.schema,
                mailer,
                secret=settings.link_secret_bytes(),
                base_url=settings.public_base_url,
                batch_size=settings.mail_batch_size,
                max_attempts=settings.mail_max_attempts,
                retry_base_s=settings.mail_retry_base_s,
                retry_max_s=settings.mail_retry_max_s,
            ),
            again_when_busy=True,
        )

    return mail_sender


def digest_timer(settings: Settings) -> Loop:
    async def digest_timer(ctx: ServiceContext) -> None:
        await _forever(
            "digest_timer",
            settings.digest_interval_s,
            lambda: digest.tick(
                ctx.pool,
                ctx.schema,
                hour=settings.digest_hour,
                weekday=settings.digest_weekday,
                base_url=settings.public_base_url,
            ),
        )

    return digest_timer


def audit_maintenance(settings: Settings) -> Loop:
    async def audit_maintenance(ctx: ServiceContext) -> None:
        await _forever(
            "audit_maintenance",
            settings.audit_maintenance_interval_s,
            lambda: audit.prepare_partitions(ctx.pool, ctx.schema, months_ahead=settings.audit_months_ahead),
        )

    return audit_maintenance
