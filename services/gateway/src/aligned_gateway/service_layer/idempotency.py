"""Idempotency-Key on POST: the first response is stored and replayed to a retry; a key
never lets one request be applied twice.

The key is scoped to (brand, user). A retry with the same body gets the first response
back (header `Idempotent-Replayed: true`); the same key with a different body is a 422;
a retry that arrives while the first request still runs is a 409 "in progress" (retry later).

When the first request ends without an answer worth replaying, what happens to the key
depends on whether the request may have been applied:
- it never reached a service (the connection was refused): the key is released, a retry runs;
- anything else (the upstream timed out, failed mid-request or answered 5xx, the request was
  cancelled or the gateway failed after forwarding): it may have been applied, so the key
  stays bound with an unknown outcome, and every retry with it gets 409 "outcome unknown"
  until the record is purged (`idempotency_ttl_s`). The client looks at the resource (the
  job list) to find out, and uses a new key for a deliberate second attempt.
A gateway that dies mid-request cannot record anything: its reservation is taken over by a
retry once it is older than any request can run (`idempotency_abandoned_after_s`). That one
case may repeat a create (a second draft, visible and deletable); transitions (submit,
approve, publish now, cancel) are refused or no-ops the second time by the services' state
machines, and no post is ever published twice (connections' idempotency key per target).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

import orjson

from aligned_common.app import Database
from aligned_common.db import UnitOfWork
from aligned_gateway.adapters import idempotency_repo
from aligned_gateway.domain.errors import BadRequest, Conflict, Invalid

MAX_KEY_LENGTH = 255
# Headers of the first response worth giving back on a replay.
REPLAYED_HEADERS = ("content-type", "location", "etag")


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reservation:
    brand_id: uuid.UUID
    user_id: str
    key: str


def body_hash(method: str, path: str, body: bytes) -> bytes:
    return hashlib.sha256(method.encode() + b"\n" + path.encode() + b"\n" + body).digest()


async def begin(
    database: Database,
    brand_id: uuid.UUID,
    user_id: str,
    key: str,
    method: str,
    path: str,
    body: bytes,
    abandoned_after_s: float,
) -> Reservation | StoredResponse:
    """Reserve the key for this request, or return the stored first response."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise BadRequest(
            title="Bad Idempotency-Key", detail=f"Idempotency-Key must be 1..{MAX_KEY_LENGTH} characters"
        )
    fingerprint = body_hash(method, path, body)
    async with UnitOfWork(database.pool, database.schema, brand_id=brand_id) as uow:
        if await idempotency_repo.reserve(
            uow.conn, brand_id, user_id, key, method, path, fingerprint, abandoned_after_s
        ):
            return Reservation(brand_id, user_id, key)
        first = await idempotency_repo.existing(uow.conn, brand_id, user_id, key)
    if first is None:  # released between our insert and select: the caller may simply retry
        raise Conflict(
            title="Request in progress", detail="a request with this Idempotency-Key is running; retry"
        )
    if bytes(first["body_hash"]) != fingerprint:
        raise Invalid(
            title="Idempotency-Key reused",
            detail="this Idempotency-Key was used with a different request body or path",
            errors=[{"field": "Idempotency-Key", "message": "reused with a different request"}],
        )
    if first["status"] is None and first["outcome_unknown"]:
        raise Conflict(
            title="Request outcome unknown",
            detail="the first request with this Idempotency-Key may have been applied (its service timed out or "
            "failed); it is not run again: check the resource, and use a new key to try once more",
        )
    if first["status"] is None:
        raise Conflict(
            title="Request in progress", detail="a request with this Idempotency-Key is running; retry"
        )
    return StoredResponse(
        first["status"],
        orjson.loads(first["headers"]) if first["headers"] else {},
        bytes(first["body"] or b""),
    )


async def finish(
    database: Database,
    reservation: Reservation,
    response: StoredResponse | None,
    *,
    may_have_applied: bool = True,
) -> None:
    """Store the first response; without one worth replaying (none, or a 5xx), release the key
    when the request surely reached no service, else keep it bound with an unknown outcome."""
    async with UnitOfWork(database.pool, database.schema, brand_id=reservation.brand_id) as uow:
        if response is None or response.status >= 500:
            if may_have_applied:
                await idempotency_repo.mark_unknown(
                    uow.conn, reservation.brand_id, reservation.user_id, reservation.key
                )
            else:
                await idempotency_repo.release(
                    uow.conn, reservation.brand_id, reservation.user_id, reservation.key
                )
            return
        headers = {k: v for k, v in response.headers.items() if k in REPLAYED_HEADERS}
        await idempotency_repo.complete(
            uow.conn,
            reservation.brand_id,
            reservation.user_id,
            reservation.key,
            response.status,
            headers,
            response.body,
        )
