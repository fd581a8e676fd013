"""SQL for client settings (e-mail preferences, time zone, unsubscribe state)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, overload

import asyncpg
import orjson

from aligned_common.units import Repository

Row = dict[str, Any]
_COLUMNS = """id, brand_id, email, preferences, time_zone, language, unsubscribed_at, unsubscribed_types,
    token_version, created_at, updated_at"""


@overload
def _row(record: None) -> None: ...
@overload
def _row(record: asyncpg.Record) -> Row: ...
def _row(record: asyncpg.Record | None) -> Row | None:
    if record is None:
        return None
    row = dict(record)
    row["preferences"] = orjson.loads(row["preferences"])
    return row


class SqlClientSettings(Repository):
    """Each client's mail settings (client_settings)."""

    async def ensure(self, brand_id: uuid.UUID, email: str) -> Row:
        """The address's settings, created with defaults on first use."""
        await self.conn.execute(
            "INSERT INTO client_settings (id, brand_id, email) VALUES ($1, $2, $3) ON CONFLICT (brand_id, email) DO NOTHING",
            uuid.uuid4(),
            brand_id,
            email.lower(),
        )
        row = await self.by_email(brand_id, email)
        assert row is not None  # inserted just above, or there already
        return row

    async def by_email(self, brand_id: uuid.UUID, email: str) -> Row | None:
        record = await self.conn.fetchrow(
            f"SELECT {_COLUMNS} FROM client_settings WHERE brand_id = $1 AND email = $2",
            brand_id,
            email.lower(),
        )
        return _row(record)

    async def get(self, brand_id: uuid.UUID, settings_id: uuid.UUID, *, lock: bool = False) -> Row | None:
        record = await self.conn.fetchrow(
            f"SELECT {_COLUMNS} FROM client_settings WHERE brand_id = $1 AND id = $2"
            + (" FOR UPDATE" if lock else ""),
            brand_id,
            settings_id,
        )
        return _row(record)

    async def list_all(self, brand_id: uuid.UUID) -> list[Row]:
        records = await self.conn.fetch(
            f"SELECT {_COLUMNS} FROM client_settings WHERE brand_id = $1 ORDER BY email", brand_id
        )
        return [_row(r) for r in records]

    async def update(
        self,
        brand_id: uuid.UUID,
        email: str,
        *,
        preferences: dict[str, Any] | None,
        time_zone: str | None,
        subscribed: bool | None,
        unsubscribed_types: list[str] | None = None,
        language: str | None = None,
    ) -> Row:
        await self.ensure(brand_id, email)
        record = await self.conn.fetchrow(
            f"""UPDATE client_settings
                SET preferences = coalesce($3::jsonb, preferences),
                    time_zone = coalesce($4, time_zone),
                    unsubscribed_at = CASE WHEN $5::boolean IS NULL THEN unsubscribed_at
                                           WHEN $5 THEN NULL ELSE coalesce(unsubscribed_at, now()) END,
                    unsubscribed_types = coalesce($6, unsubscribed_types),
                    language = coalesce($7, language),
                    updated_at = now()
                WHERE brand_id = $1 AND email = $2 RETURNING {_COLUMNS}""",
            brand_id,
            email.lower(),
            orjson.dumps(preferences).decode() if preferences is not None else None,
            time_zone,
            subscribed,
            sorted(set(unsubscribed_types)) if unsubscribed_types is not None else None,
            language,
        )
        return _row(record)

    async def unsubscribe(self, brand_id: uuid.UUID, settings_id: uuid.UUID, kind: str | None) -> Row | None:
        """Idempotent: a second use keeps the first time (or the kind listed once).
        `kind` None stops every mail; a kind adds it to unsubscribed_types."""
        record = await self.conn.fetchrow(
            f"""UPDATE client_settings
                SET unsubscribed_at = CASE WHEN $3::text IS NULL THEN coalesce(unsubscribed_at, now()) ELSE unsubscribed_at END,
                    unsubscribed_types = CASE WHEN $3::text IS NULL OR $3 = ANY(unsubscribed_types) THEN unsubscribed_types
                                              ELSE array_append(unsubscribed_types, $3) END,
                    updated_at = now()
                WHERE brand_id = $1 AND id = $2 RETURNING {_COLUMNS}""",
            brand_id,
            settings_id,
            kind,
        )
        return _row(record)

    async def rotate_token(self, brand_id: uuid.UUID, settings_id: uuid.UUID) -> Row | None:
        record = await self.conn.fetchrow(
            f"""UPDATE client_settings SET token_version = token_version + 1, updated_at = now()
                WHERE brand_id = $1 AND id = $2 RETURNING {_COLUMNS}""",
            brand_id,
            settings_id,
        )
        return _row(record)

    async def digest_candidates(self) -> list[Row]:
        """Every brand's subscribed clients, with whether mails wait for them in a digest (worker role)."""
        records = await self.conn.fetch(
            f"""SELECT {_COLUMNS}, EXISTS (SELECT 1 FROM notifications n WHERE n.brand_id = c.brand_id
                       AND n.to_address = c.email AND n.status = 'held') AS has_held
                FROM client_settings c WHERE unsubscribed_at IS NULL AND NOT 'digest' = ANY(unsubscribed_types)"""
        )
        return [_row(r) for r in records]

    async def claim_digest(
        self,
        brand_id: uuid.UUID,
        client_id: uuid.UUID,
        cadence: str,
        period_start: date,
        notification_id: uuid.UUID,
    ) -> bool:
        """False when this period's digest was claimed before (another replica, or before a restart)."""
        return bool(
            await self.conn.fetchval(
                """INSERT INTO digests (brand_id, client_id, cadence, period_start, notification_id) VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT DO NOTHING RETURNING true""",
                brand_id,
                client_id,
                cadence,
                period_start,
                notification_id,
            )
        )

    async def digest_claimed(self, client_id: uuid.UUID, cadence: str, period_start: date) -> bool:
        return bool(
            await self.conn.fetchval(
                "SELECT true FROM digests WHERE client_id = $1 AND cadence = $2 AND period_start = $3",
                client_id,
                cadence,
                period_start,
            )
        )
