"""Due targets -> one publishing.attempt_requested each, safely from several replicas.

One statement per batch does it all: claim due targets and their jobs FOR UPDATE SKIP LOCKED
(a replica never waits and never takes a row another holds, so a target is requested once),
mark the jobs publishing, advance the targets, and write one attempt_requested envelope per
target into the outbox. The envelope is built in SQL: shipping every claimed row to Python
and every payload back was most of a batch's time. Its shape is EventEnvelope's; the
integration tests parse every event they read with EventEnvelope and AttemptRequested.

The same claim re-requests a target that has been `publishing` longer than the timeout (its
next_attempt_at was set to requested_at + timeout): same attempt, same idempotency key, so
connections answers from its record instead of posting twice.

The claim also re-checks the approval gate (`approval_required` means `approved_hash` equals
`content_hash`): every command keeps a gated job's targets waiting, so this never skips a
row in practice; it is the last line that makes "nothing unapproved goes out" hold even if a
command got it wrong (ADR 0006).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from aligned_common.db import notify_channel
from aligned_common.events.publishing import AttemptRequested
from aligned_common.events.registry import topic_of
from aligned_common.telemetry import current_traceparent
from aligned_publishing.adapters.object_store import key_of_reference
from aligned_publishing.adapters.unit_of_work import SqlUnitOfWork
from aligned_publishing.service_layer.deps import Deps


async def dispatch_batch(deps: Deps, now: datetime | None = None) -> int:
    """Claim and request one batch of due targets; returns how many were requested."""
    now = now or deps.clock.now()
    recheck_at = now + timedelta(seconds=deps.settings.publishing_timeout_s)
    traceparent = current_traceparent()
    # Cross-brand by nature: due targets of every brand are claimed together, hence the worker role.
    async with deps.sql_uow(role="worker") as uow:
        result = await uow.dispatch.claim_due(
            now,
            deps.settings.dispatch_batch_size,
            recheck_at,
            topic_of(AttemptRequested.event_type()),
            AttemptRequested.event_type(),
            _shared_envelope_fields(now, traceparent),
            traceparent,
            notify_channel(deps.schema),
        )
        if result["rechecked"]:
            await _explain_rechecks(uow, orjson.loads(result["rechecked"]), now)
        if result["with_media"]:
            await _presign_media(uow, deps, result["with_media"])
    requested: int = result["requested"]
    return requested


async def _presign_media(uow: SqlUnitOfWork, deps: Deps, seqs: list[int]) -> None:
    """The claim (adapters/dispatch_repo.py) wrote each media item's `url` as the object's reference (s3://bucket/key);
    connections gets a short-lived presigned GET URL instead (ADR 0007). Signing is local
    computation, but not SQL's, so the batch's envelopes with media are rewritten here, in
    the same transaction: the relay never sees the reference."""
    rows = await uow.dispatch.outbox_payloads(seqs)
    updated = []
    for row in rows:
        envelope = orjson.loads(row["payload"])
        for item in envelope["data"]["media"]:
            item["url"] = await deps.storage.presigned_get(
                key_of_reference(item["url"]), deps.settings.media_url_ttl_s
            )
        updated.append((row["seq"], orjson.dumps(envelope)))
    await uow.dispatch.rewrite_payloads(updated)


def _shared_envelope_fields(now: datetime, traceparent: str | None) -> str:
    """The envelope fields every attempt_requested of a batch shares, as JSON members (no braces)."""
    shared = {
        "type": AttemptRequested.event_type(),
        "source": AttemptRequested.source(),
        "time": now.astimezone(UTC).isoformat(),
        "schema_version": AttemptRequested.schema_version(),
        "traceparent": traceparent,
    }
    return orjson.dumps(shared).decode()[1:-1]


async def _explain_rechecks(uow: SqlUnitOfWork, rechecked: list[dict[str, Any]], now: datetime) -> None:
    """Nothing is stuck silently: a job whose target gets no answer says so in its status."""
    await uow.dispatch.explain(
        [row["job_id"] for row in rechecked],
        [
            f"no answer from connections for {row['platform']} attempt {row['attempt']}; "
            f"re-requested {row['rechecks']} time(s) with the same idempotency key"
            for row in rechecked
        ],
        now,
    )
