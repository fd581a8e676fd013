"""SQL for webhook endpoints (always inside a brand-scoped or worker unit of work)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from aligned_webhooks.adapters.secret_box import Sealed
from aligned_webhooks.domain.endpoints import Endpoint

_COLUMNS = """id, brand_id, tenant_id, url, description, event_types, enabled, disabled_reason, disabled_at,
              previous_secret_expires_at, failing_since, created_at, updated_at"""


def _endpoint(row: asyncpg.Record) -> Endpoint:
    return Endpoint(**{k: row[k] for k in Endpoint.__dataclass_fields__})


async def insert(
    conn: asyncpg.Connection,
    endpoint_id: uuid.UUID,
    brand_id: uuid.UUID,
    tenant_id: uuid.UUID,
    url: str,
    description: str,
    event_types: list[str],
    secret: Sealed,
) -> Endpoint:
    row = await conn.fetchrow(
        f"""INSERT INTO webhook_endpoints
                (id, brand_id, tenant_id, url, description, event_types, secret_sealed, secret_key_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {_COLUMNS}""",
        endpoint_id,
        brand_id,
        tenant_id,
        url,
        description,
        event_types,
        secret.blob,
        secret.key_id,
    )
    return _endpoint(row)


async def get(
    conn: asyncpg.Connection, brand_id: uuid.UUID, endpoint_id: uuid.UUID, *, lock: bool = False
) -> Endpoint | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE brand_id = $1 AND id = $2"
        + (" FOR UPDATE" if lock else ""),
        brand_id,
        endpoint_id,
    )
    return _endpoint(row) if row else None


async def list_for_brand(conn: asyncpg.Connection, brand_id: uuid.UUID) -> list[Endpoint]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE brand_id = $1 ORDER BY created_at, id", brand_id
    )
    return [_endpoint(r) for r in rows]


async def subscribed(conn: asyncpg.Connection, brand_id: uuid.UUID, event_type: str) -> list[uuid.UUID]:
    rows = await conn.fetch(
        """SELECT id FROM webhook_endpoints
           WHERE brand_id = $1 AND enabled AND (event_types = '{}' OR $2 = ANY (event_types))""",
        brand_id,
        event_type,
    )
    return [r["id"] for r in rows]


async def update(
    conn: asyncpg.Connection, brand_id: uuid.UUID, endpoint_id: uuid.UUID, changes: dict, now: datetime
) -> Endpoint | None:
    allowed = {
        "url",
        "description",
        "event_types",
        "enabled",
        "disabled_reason",
        "disabled_at",
        "failing_since",
    }
    assert set(changes) <= allowed, set(changes) - allowed  # column names are never user input
    assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changes, start=4))
    row = await conn.fetchrow(
        f"""UPDATE webhook_endpoints SET {assignments}, updated_at = $3
            WHERE brand_id = $1 AND id = $2 RETURNING {_COLUMNS}""",
        brand_id,
        endpoint_id,
        now,
        *changes.values(),
    )
    return _endpoint(row) if row else None


async def delete(conn: asyncpg.Connection, brand_id: uuid.UUID, endpoint_id: uuid.UUID) -> bool:
    return (
        await conn.fetchval(
            "DELETE FROM webhook_endpoints WHERE brand_id = $1 AND id = $2 RETURNING true",
            brand_id,
            endpoint_id,
        )
        is not None
    )


async def secrets(
    conn: asyncpg.Connection, endpoint_id: uuid.UUID
) -> tuple[Sealed, Sealed | None, datetime | None]:
    """The current secret, the previous one (if any) and when the previous one stops signing."""
    row = await conn.fetchrow(
        """SELECT secret_sealed, secret_key_id, previous_secret_sealed, previous_secret_key_id, previous_secret_expires_at
           FROM webhook_endpoints WHERE id = $1""",
        endpoint_id,
    )
    previous = (
        Sealed(row["previous_secret_key_id"], row["previous_secret_sealed"])
        if row["previous_secret_sealed"]
        else None
    )
    return Sealed(row["secret_key_id"], row["secret_sealed"]), previous, row["previous_secret_expires_at"]


async def rotate(
    conn: asyncpg.Connection,
    brand_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    new_secret: Sealed,
    previous: Sealed,
    expires_at: datetime,
    now: datetime,
) -> Endpoint | None:
    row = await conn.fetchrow(
        f"""UPDATE webhook_endpoints
            SET previous_secret_sealed = $3, previous_secret_key_id = $4, previous_secret_expires_at = $5,
                secret_sealed = $6, secret_key_id = $7, updated_at = $8
            WHERE brand_id = $1 AND id = $2 RETURNING {_COLUMNS}""",
        brand_id,
        endpoint_id,
        previous.blob,
        previous.key_id,
        expires_at,
        new_secret.blob,
        new_secret.key_id,
        now,
    )
    return _endpoint(row) if row else None
