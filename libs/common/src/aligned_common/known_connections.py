"""A service's own copy of which connections a brand may name, from connections' events.

Commands that take a connection id (publishing's job targets, approval's policies) refuse one
of another brand, one that does not exist and one that was disconnected, without calling the
connections service (it may be down, and the id is the caller's say-so). Each such service keeps
a `known_connections` table in its own schema (its migration, the shape publishing 0003 made:
connection_id, brand_id, platform, status, updated_at), written by its inbox consumers with
`record` and read by its commands with `of_brand` and `problem_with`. Another brand's connection
and none at all read the same (no existence leak); one connected moments ago is unknown until its
event arrives, and the message says to retry.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from aligned_common.envelope import EventEnvelope
from aligned_common.events.connections import (
    Connected,
    ConnectionExpired,
    ConnectionRestored,
    ConnectionRevoked,
    Disconnected,
)

EVENTS = (Connected, ConnectionExpired, ConnectionRevoked, ConnectionRestored, Disconnected)
STATUS_OF = {
    Connected.event_type_name: "active",
    ConnectionRestored.event_type_name: "active",
    ConnectionExpired.event_type_name: "expired",
    ConnectionRevoked.event_type_name: "revoked",
    Disconnected.event_type_name: "disconnected",
}


async def put(
    conn: asyncpg.Connection,
    brand_id: uuid.UUID,
    connection_id: uuid.UUID,
    platform: str,
    status: str,
    at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO known_connections (connection_id, brand_id, platform, status, updated_at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (connection_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at""",
        connection_id,
        brand_id,
        platform.lower(),
        status,
        at,
    )


async def record(conn: asyncpg.Connection, envelope: EventEnvelope, data: Any) -> None:
    """One of connections' status events (EVENTS), inside the consumer's inbox transaction."""
    await put(
        conn,
        envelope.brand_id,
        data.connection_id,
        data.platform,
        STATUS_OF[data.event_type()],
        envelope.time,
    )


async def of_brand(
    conn: asyncpg.Connection, brand_id: uuid.UUID, connection_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, asyncpg.Record]:
    if not connection_ids:
        return {}
    rows = await conn.fetch(
        "SELECT * FROM known_connections WHERE brand_id = $1 AND connection_id = ANY($2)",
        brand_id,
        list(set(connection_ids)),
    )
    return {r["connection_id"]: r for r in rows}


def problem_with(connection: Any | None, connection_id: uuid.UUID) -> tuple[str, str] | None:
    """(code, message) when a brand may not name this connection; None when it may."""
    if connection is None:
        return (
            "unknown_connection",
            f"no connection {connection_id} in this brand (one connected moments ago "
            "becomes usable within seconds: retry)",
        )
    if connection["status"] == "disconnected":
        return "connection_disconnected", f"connection {connection_id} was disconnected"
    return None


async def require_known(
    conn: asyncpg.Connection, brand_id: uuid.UUID, connection_id: uuid.UUID, field: str
) -> None:
    """A command's one connection id: 422 naming `field` unless the brand may name it."""
    from aligned_common.problems import Problem

    known = await of_brand(conn, brand_id, [connection_id])
    problem = problem_with(known.get(connection_id), connection_id)
    if problem is not None:
        code, message = problem
        raise Problem(
            422,
            "Invalid request",
            detail=f"{field}: {message}",
            errors=[{"field": field, "message": message, "code": code}],
        )
