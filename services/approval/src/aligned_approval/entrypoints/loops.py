"""Background loops; each is safe to run in several replicas at once. Each is given the
service's dependencies (service_layer/deps.py) and asks its clock for "now" every round."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aligned_approval.service_layer import audit, digest, escalation, mail
from aligned_approval.service_layer.deps import Deps

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


async def escalation_timer(deps: Deps) -> None:
    settings = deps.settings
    await _forever(
        "escalation_timer",
        settings.escalation_interval_s,
        lambda: escalation.tick(
            deps.uows, now=deps.clock.now(), hour_s=settings.escalation_hour_s, base_url=deps.base_url
        ),
    )


async def mail_sender(deps: Deps) -> None:
    settings = deps.settings
    await _forever(
        "mail_sender",
        settings.mail_interval_s,
        lambda: mail.send_due(
            deps.uows,
            deps.mailer,
            secret=deps.secret,
            base_url=deps.base_url,
            batch_size=settings.mail_batch_size,
            max_attempts=settings.mail_max_attempts,
            retry_base_s=settings.mail_retry_base_s,
            retry_max_s=settings.mail_retry_max_s,
            now=deps.clock.now(),
        ),
        again_when_busy=True,
    )


async def digest_timer(deps: Deps) -> None:
    settings = deps.settings
    await _forever(
        "digest_timer",
        settings.digest_interval_s,
        lambda: digest.tick(
            deps.uows,
            hour=settings.digest_hour,
            weekday=settings.digest_weekday,
            base_url=deps.base_url,
            now=deps.clock.now(),
        ),
    )


async def audit_maintenance(deps: Deps) -> None:
    await _forever(
        "audit_maintenance",
        deps.settings.audit_maintenance_interval_s,
        lambda: audit.prepare_partitions(
            deps.uows, months_ahead=deps.settings.audit_months_ahead, now=deps.clock.now()
        ),
    )
