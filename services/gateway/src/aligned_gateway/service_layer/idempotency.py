"""Idempotency-Key on POST: the first response is stored and replayed to a retry.

The key is scoped to (brand, user). A retry with the same body gets the first response
back (header `Idempotent-Replayed: true`); the same key with a different body is a 422;
a retry that arrives while the first request still runs is a 409 (retry later). A first
request that fails with a 5xx or is cancelled releases the key, so a retry runs again; one
whose gateway died mid-request leaves the key reserved, and a retry takes it over once the
reservation is older than any request can run (`idempotency_abandoned_after_s`). The trade-off:
the dead request may have reached its upstream, which does not dedupe by key, so a taken-over
create can make a second draft (visible, deletable); transitions (submit, approve, publish now,
cancel) are refused or no-ops the second time by the services' state machines, and no post is
ever published twice (connections' idempotency key per target). Before, the key answered 409
for a day and the client had to find out the state by itself.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

import asyncpg
import orjson

from aligned_common.db import UnitOfWork
from aligned_common.problems import Problem
from aligned_gateway.adapters import idempotency_repo

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
    pool: asyncpg.Pool,
    schema: str,
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
        raise Problem(400, "Bad Idempotency-Key", detail=f"Idempotency-Key must be 1..{MAX_KEY_LENGTH} characters")
    fingerprint = body_hash(method, path, body)
    async with UnitOfWork(pool, schema, brand_id=brand_id) as uow:
        if await idempotency_repo.reserve(uow.conn, brand_id, user_id, key, method, path, fingerprint, abandoned_after_s):
            return Reservation(brand_id, user_id, key)
        first = await idempotency_repo.existing(uow.conn, brand_id, user_id, key)
    if first is None:  # released between our insert and select: the caller may simply retry
        raise Problem(409, "Request in progress", detail="a request with this Idempotency-Key is running; retry")
    if bytes(first["body_hash"]) != fingerprint:
        raise Problem(
            422, "Idempotency-Key reused",
            detail="this Idempotency-Key was used with a different request body or path",
            errors=[{"field": "Idempotency-Key", "message": "reused with a different request"}],
        )
    if first["status"] is None:
        raise Problem(409, "Request in progress", detail="a request with this Idempotency-Key is running; retry")
    return StoredResponse(first["status"], orjson.loads(first["headers"]) if first["headers"] else {}, bytes(first["body"] or b""))


async def finish(pool: asyncpg.Pool, schema: str, reservation: Reservation, response: StoredResponse | None) -> None:
    """Store the first response, or release the key when there is nothing worth replaying."""
    async with UnitOfWork(pool, schema, brand_id=reservation.brand_id) as uow:
        if response is None or response.status >= 500:
            await idempotency_repo.release(uow.conn, reservation.brand_id, reservation.user_id, reservation.key)
            return
        headers = {k: v for k, v in response.headers.items() if k in REPLAYED_HEADERS}
        await idempotency_repo.complete(
            uow.conn, reservation.brand_id, reservation.user_id, reservation.key, response.status, headers, response.body
        )
