"""Inbound webhooks: verify, parse, then store and emit in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from aligned_common.events.webhooks import Received
from aligned_common.platforms import InvalidSignature, MalformedWebhook, StaleTimestamp, meta_webhooks
from aligned_common.platforms.standard_webhooks import HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP
from aligned_webhooks.adapters.providers import Provider, signed_at
from aligned_webhooks.domain.inbound import IngestOutcome, Rejection, VerifiedDelivery
from aligned_webhooks.service_layer.ports import Units

# Headers worth keeping with the raw body (enough to re-verify it); the rest is noise or private.
KEPT_HEADERS = (
    HEADER_ID,
    HEADER_TIMESTAMP,
    HEADER_SIGNATURE,
    meta_webhooks.HEADER_SIGNATURE,
    "content-type",
    "user-agent",
)


class Rejected(Exception):
    def __init__(self, reason: Rejection, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def verify(
    provider: Provider, headers: Mapping[str, str], body: bytes, tolerance_s: float, now: datetime
) -> list[VerifiedDelivery]:
    """Signature and timestamp (fresh as of `now`) first, on the raw bytes, then the body's
    meaning: one delivery per event it carries (Meta batches several; each is then stored
    under the delivery's id and its index, so a redelivery of the batch is a duplicate of
    each). Raises Rejected."""
    try:
        verified = provider.verify(headers, body, tolerance_s, now.timestamp())
        events = provider.parse(body)
    except MalformedWebhook as error:
        raise Rejected(Rejection.MALFORMED, str(error)) from error
    except StaleTimestamp as error:
        raise Rejected(Rejection.STALE_TIMESTAMP, str(error)) from error
    except InvalidSignature as error:
        raise Rejected(Rejection.BAD_SIGNATURE, str(error)) from error
    lowered = {k.lower(): v for k, v in headers.items()}
    kept = {name: lowered[name] for name in KEPT_HEADERS if name in lowered}
    return [
        VerifiedDelivery(
            provider=provider.name,
            provider_event_id=verified.webhook_id if len(events) == 1 else f"{verified.webhook_id}#{index}",
            signed_at=signed_at(verified),
            headers=kept,
            raw_body=body,
            parsed=parsed,
        )
        for index, parsed in enumerate(events)
    ]


async def store(units: Units, delivery: VerifiedDelivery) -> tuple[IngestOutcome, uuid.UUID | None]:
    """Store once per provider event id and emit webhooks.received for each brand of the account.

    Runs as the worker role: the request names a platform account, not a brand, and the
    account's brands are only known after the lookup (an unmatched event has none at all).
    """
    event_id = uuid.uuid4()
    async with units(role="worker") as uow:
        owners = await uow.inbound.owners_of(delivery.provider, delivery.parsed.account_id)
        if not await uow.inbound.insert_event(event_id, delivery, owners):
            return IngestOutcome.DUPLICATE, None
        for owner in owners:
            await uow.emit(
                _received(event_id, delivery),
                brand_id=owner.brand_id,
                tenant_id=owner.tenant_id,
                subject=delivery.parsed.remote_post_id or delivery.parsed.account_id,
            )
    return (IngestOutcome.ACCEPTED if owners else IngestOutcome.UNMATCHED), event_id


def _received(event_id: uuid.UUID, delivery: VerifiedDelivery) -> Received:
    parsed = delivery.parsed
    return Received(
        webhook_event_id=event_id,
        provider=delivery.provider,
        provider_event_id=delivery.provider_event_id,
        kind=parsed.kind,
        account_id=parsed.account_id,
        remote_post_id=parsed.remote_post_id,
        post_status=parsed.post_status,
        metrics=parsed.metrics,
        post_url=parsed.post_url,
        occurred_at=parsed.occurred_at,
        item=parsed.item,
    )
