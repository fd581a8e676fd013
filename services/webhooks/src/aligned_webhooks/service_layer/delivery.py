"""One delivery try, start to finish: guard, sign, send, record the outcome and what follows."""

from __future__ import annotations

import logging
from datetime import datetime

from aligned_common.events.webhooks import EndpointDisabled
from aligned_common.platforms import standard_webhooks
from aligned_common.ssrf import RefusedTarget, check_target
from aligned_webhooks.adapters import sender
from aligned_webhooks.adapters.secret_box import SecretBox
from aligned_webhooks.adapters.sender import SendResult
from aligned_webhooks.domain.deliveries import ClaimedDelivery
from aligned_webhooks.domain.endpoints import failing_too_long, previous_secret_valid
from aligned_webhooks.domain.retry import next_delay_s, parse_retry_after
from aligned_webhooks.metrics import DELIVERY_ATTEMPTS, DELIVERY_SECONDS, ENDPOINTS_DISABLED
from aligned_webhooks.service_layer.deps import Deps
from aligned_webhooks.service_layer.ports import UnitOfWork

log = logging.getLogger(__name__)


def signing_secrets(delivery: ClaimedDelivery, box: SecretBox, now: datetime) -> list[str]:
    context = str(delivery.endpoint_id)
    secrets = [box.open(delivery.secret, context)]
    if delivery.previous_secret and previous_secret_valid(delivery.previous_secret_expires_at, now):
        secrets.append(box.open(delivery.previous_secret, context))
    return secrets


async def attempt(deps: Deps, delivery: ClaimedDelivery) -> float | None:
    """Try once and record it; returns the wait before the next try, or None when finished."""
    requested_at = deps.clock.now()
    result = await _send(deps, delivery, requested_at)
    DELIVERY_ATTEMPTS.labels("success" if result.succeeded else "failure").inc()
    if result.status_code is not None:
        DELIVERY_SECONDS.observe(result.latency_ms / 1000)
    return await record_outcome(deps, delivery, requested_at, result)


async def _send(deps: Deps, delivery: ClaimedDelivery, requested_at: datetime) -> SendResult:
    settings = deps.settings
    try:
        # Checked again at every try: the name may resolve elsewhere than at registration.
        target = await check_target(delivery.url, deps.target_policy())
    except RefusedTarget as refused:
        return SendResult(None, 0.0, None, f"refused target: {refused}", None)
    headers = standard_webhooks.signed_headers(
        signing_secrets(delivery, deps.box, requested_at),
        str(delivery.event_id),
        delivery.payload,
        int(requested_at.timestamp()),
    )
    return await sender.post(
        deps.client,
        target,
        delivery.payload,
        headers,
        timeout_s=settings.delivery_timeout_s,
        excerpt_bytes=settings.response_excerpt_bytes,
    )


async def record_outcome(
    deps: Deps, delivery: ClaimedDelivery, requested_at: datetime, result: SendResult
) -> float | None:
    settings = deps.settings
    now = deps.clock.now()  # the answer came now: up to delivery_timeout_s after requested_at
    async with deps.uow(delivery.brand_id) as uow:
        await uow.deliveries.record_attempt(
            delivery, requested_at, result.status_code, result.latency_ms, result.excerpt, result.error
        )
        if result.succeeded:
            await uow.deliveries.finish(delivery.id, "succeeded", result.status_code, None, now)
            await uow.deliveries.mark_endpoint_healthy(delivery.endpoint_id)
            return None
        error = result.error or f"HTTP {result.status_code}"
        if result.status_code == 410:
            # 410 Gone is the receiver saying "stop": no retries, and no more deliveries.
            await uow.deliveries.finish(delivery.id, "failed", 410, "endpoint answered 410 Gone", now)
            await _disable(uow, delivery, "the endpoint answered 410 Gone", now)
            return None
        failing_since = await uow.deliveries.mark_endpoint_failing(delivery.endpoint_id, now)
        if failing_too_long(failing_since, now, settings.disable_after_failing_s):
            await _disable(uow, delivery, f"every delivery failed since {failing_since.isoformat()}", now)
        delay = next_delay_s(
            delivery.round_attempts + 1,
            settings.retry_schedule_s,
            scale=settings.retry_scale,
            jitter=settings.retry_jitter,
            retry_after_s=parse_retry_after(result.retry_after, now),
            max_retry_after_s=settings.max_retry_after_s,
        )
        if delay is None:
            # Exhausted deliveries are kept (status failed) so the brand can replay them.
            await uow.deliveries.finish(delivery.id, "failed", result.status_code, error, now)
            return None
        await uow.deliveries.retry_later(delivery.id, delay, result.status_code, error, now)
        return delay


async def _disable(uow: UnitOfWork, delivery: ClaimedDelivery, reason: str, now: datetime) -> None:
    url = await uow.deliveries.disable_endpoint(delivery.endpoint_id, reason, now)
    if url is None:
        return  # another try disabled it first: one event is enough
    ENDPOINTS_DISABLED.labels("gone" if "410" in reason else "failing").inc()
    log.warning(
        "webhook endpoint disabled",
        extra={"ctx_endpoint_id": str(delivery.endpoint_id), "ctx_reason": reason},
    )
    await uow.emit(
        EndpointDisabled(endpoint_id=delivery.endpoint_id, url=url, reason=reason),
        brand_id=delivery.brand_id,
        tenant_id=delivery.tenant_id,
        subject=str(delivery.endpoint_id),
    )
