"""SQL for webhook endpoints (always inside a brand-scoped or worker unit of work)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from aligned_common.units import Repository
from aligned_webhooks.adapters.secret_box import Sealed
from aligned_webhooks.domain.endpoints import Endpoint

# An endpoint with a secret (current or previous) sealed under another key than the active one.
_OLD_KEY = (
    """(secret_key_id <> $1 OR (previous_secret_sealed IS NOT NULL AND previous_secret_key_id <> $1))"""
)

_COLUMNS = """id, brand_id, tenant_id, url, description, event_types, enabled, disabled_reason, disabled_at,
              previous_secret_expires_at, failing_since, created_at, updated_at"""


def _endpoint(row: asyncpg.Record) -> Endpoint:
    return Endpoint(**{k: row[k] for k in Endpoint.__dataclass_fields__})


class SqlEndpoints(Repository):
    """The webhook_endpoints repository on one unit of work's connection."""

    async def insert(
        self,
        endpoint_id: uuid.UUID,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        url: str,
        description: str,
        event_types: list[str],
        secret: Sealed,
    ) -> Endpoint:
        row = await self.conn.fetchrow(
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
        self, brand_id: uuid.UUID, endpoint_id: uuid.UUID, *, lock: bool = False
    ) -> Endpoint | None:
        row = await self.conn.fetchrow(
            f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE brand_id = $1 AND id = $2"
            + (" FOR UPDATE" if lock else ""),
            brand_id,
            endpoint_id,
        )
        return _endpoint(row) if row else None

    async def list_for_brand(self, brand_id: uuid.UUID) -> list[Endpoint]:
        rows = await self.conn.fetch(
            f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE brand_id = $1 ORDER BY created_at, id", brand_id
        )
        return [_endpoint(r) for r in rows]

    async def subscribed(self, brand_id: uuid.UUID, event_type: str) -> list[uuid.UUID]:
        rows = await self.conn.fetch(
            """SELECT id FROM webhook_endpoints
               WHERE brand_id = $1 AND enabled AND (event_types = '{}' OR $2 = ANY (event_types))""",
            brand_id,
            event_type,
        )
        return [r["id"] for r in rows]

    async def update(
        self, brand_id: uuid.UUID, endpoint_id: uuid.UUID, changes: dict[str, Any], now: datetime
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
        row = await self.conn.fetchrow(
            f"""UPDATE webhook_endpoints SET {assignments}, updated_at = $3
                WHERE brand_id = $1 AND id = $2 RETURNING {_COLUMNS}""",
            brand_id,
            endpoint_id,
            now,
            *changes.values(),
        )
        return _endpoint(row) if row else None

    async def delete(self, brand_id: uuid.UUID, endpoint_id: uuid.UUID) -> bool:
        return (
            await self.conn.fetchval(
                "DELETE FROM webhook_endpoints WHERE brand_id = $1 AND id = $2 RETURNING true",
                brand_id,
                endpoint_id,
            )
            is not None
        )

    async def secrets(self, endpoint_id: uuid.UUID) -> tuple[Sealed, Sealed | None, datetime | None]:
        """The current secret, the previous one (if any) and when the previous one stops signing."""
        row = await self.conn.fetchrow(
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
        self,
        brand_id: uuid.UUID,
        endpoint_id: uuid.UUID,
        new_secret: Sealed,
        previous: Sealed,
        expires_at: datetime,
        now: datetime,
    ) -> Endpoint | None:
        row = await self.conn.fetchrow(
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

    # -- key rotation (rotate-keys, as worker: every brand's endpoints) -------------------------

    async def under_old_keys(
        self, active_key_id: str, after_id: uuid.UUID, limit: int
    ) -> list[tuple[uuid.UUID, Sealed, Sealed | None]]:
        """(id, current secret, previous secret) of endpoints under an old key, locked; a row
        locked elsewhere is skipped. Keyset pages: pass the last id seen."""
        rows = await self.conn.fetch(
            f"""SELECT id, secret_sealed, secret_key_id, previous_secret_sealed, previous_secret_key_id
                  FROM webhook_endpoints WHERE {_OLD_KEY} AND id > $2
                 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED""",
            active_key_id,
            after_id,
            limit,
        )
        return [
            (
                row["id"],
                Sealed(row["secret_key_id"], row["secret_sealed"]),
                Sealed(row["previous_secret_key_id"], row["previous_secret_sealed"])
                if row["previous_secret_sealed"] is not None
                else None,
            )
            for row in rows
        ]

    async def store_resealed(self, endpoint_id: uuid.UUID, current: Sealed, previous: Sealed | None) -> None:
        await self.conn.execute(
            """UPDATE webhook_endpoints SET secret_sealed = $2, secret_key_id = $3,
                      previous_secret_sealed = $4, previous_secret_key_id = $5 WHERE id = $1""",
            endpoint_id,
            current.blob,
            current.key_id,
            previous.blob if previous else None,
            previous.key_id if previous else None,
        )

    async def count_under_old_keys(self, active_key_id: str) -> int:
        count: int = await self.conn.fetchval(
            f"SELECT count(*) FROM webhook_endpoints WHERE {_OLD_KEY}", active_key_id
        )
        return count
