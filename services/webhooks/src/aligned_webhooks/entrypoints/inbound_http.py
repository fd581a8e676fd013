"""POST /webhooks/{provider}: the public door for platform webhooks (no identity headers), and
GET /webhooks/{provider}: the subscription check of platforms that make one (Meta)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from aligned_common.app import dependency
from aligned_common.platforms import InvalidSignature, MalformedWebhook
from aligned_common.problems import problem_response
from aligned_webhooks.domain.inbound import Rejection
from aligned_webhooks.metrics import INBOUND_ACCEPTED, INBOUND_REJECTED
from aligned_webhooks.service_layer import ingest
from aligned_webhooks.service_layer.deps import Deps

log = logging.getLogger(__name__)

router = APIRouter()
Service = Annotated[Deps, Depends(dependency(Deps))]

_STATUS = {
    Rejection.UNKNOWN_PROVIDER: (404, "Unknown webhook provider"),
    Rejection.OVERSIZE: (413, "Webhook body too large"),
    Rejection.MALFORMED: (400, "Malformed webhook"),
    Rejection.BAD_SIGNATURE: (401, "Invalid webhook signature"),
    Rejection.STALE_TIMESTAMP: (401, "Stale webhook timestamp"),
}


class _TooLarge(Exception):
    pass


async def _read_limited(request: Request, limit: int) -> bytes:
    """The raw body, refusing as soon as it passes `limit` (never buffering a huge body)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _reject(provider_label: str, reason: Rejection, detail: str, path: str) -> JSONResponse:
    INBOUND_REJECTED.labels(provider_label, reason.value).inc()
    log.info("inbound webhook refused", extra={"ctx_provider": provider_label, "ctx_reason": reason.value})
    status, title = _STATUS[reason]
    return problem_response(status, title, detail, instance=path, reason=reason.value)


@router.post("/webhooks/{provider}", status_code=202, tags=["inbound"])
async def receive_webhook(provider: str, request: Request, deps: Service) -> JSONResponse:
    """Verified, deduplicated and stored before the answer; processed asynchronously.

    202 for a new event, a redelivery and an event for an account no brand has connected
    (status "unmatched": stored but not emitted, so the platform stops retrying it).
    """
    settings = deps.settings
    known = deps.providers.get(provider)
    if known is None:
        return _reject(
            "unknown", Rejection.UNKNOWN_PROVIDER, f"no webhook provider {provider!r}", request.url.path
        )
    try:
        body = await _read_limited(request, settings.max_body_bytes)
    except _TooLarge:
        return _reject(
            provider,
            Rejection.OVERSIZE,
            f"the limit is {settings.max_body_bytes} bytes",
            request.url.path,
        )
    try:
        deliveries = ingest.verify(
            known, request.headers, body, settings.signature_tolerance_s, deps.clock.now()
        )
    except ingest.Rejected as rejected:
        return _reject(provider, rejected.reason, rejected.detail, request.url.path)
    stored = [await ingest.store(deps.units, delivery) for delivery in deliveries]
    for outcome, _ in stored:
        INBOUND_ACCEPTED.labels(provider, outcome.value).inc()
    (outcome, event_id), *more = stored
    answer: dict[str, object] = {"status": outcome.value, "id": str(event_id) if event_id else None}
    if more:  # a batch (Meta): every event's own outcome
        answer["events"] = [{"status": o.value, "id": str(i) if i else None} for o, i in stored]
    return JSONResponse(answer, status_code=202)


@router.get("/webhooks/{provider}", tags=["inbound"], response_model=None)
async def answer_subscription(
    provider: str, request: Request, deps: Service
) -> PlainTextResponse | JSONResponse:
    """A platform's subscription check (Meta: hub.mode=subscribe, hub.verify_token,
    hub.challenge): the challenge as plain text when the verify token is ours; 403 otherwise,
    so a stranger cannot subscribe our endpoint to their app."""
    known = deps.providers.get(provider)
    if known is None:
        return _reject(
            "unknown", Rejection.UNKNOWN_PROVIDER, f"no webhook provider {provider!r}", request.url.path
        )
    try:
        challenge = known.answer_challenge(dict(request.query_params))
    except MalformedWebhook as error:
        return _reject(provider, Rejection.MALFORMED, str(error), request.url.path)
    except InvalidSignature as error:
        INBOUND_REJECTED.labels(provider, Rejection.BAD_SIGNATURE.value).inc()
        return problem_response(
            403,
            "Wrong verify token",
            str(error),
            instance=request.url.path,
            reason=Rejection.BAD_SIGNATURE.value,
        )
    return PlainTextResponse(challenge)
