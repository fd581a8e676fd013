"""SQL for platform_connections. Every function takes the unit of work's connection: the
brand scope (row-level security) and the transaction are the caller's."""

from __future__ import annotations

import uuid

import asyncpg

from aligned_common.units import Repository
from aligned_connections.domain.connection import Connection, SealedTokens, Status

CONNECTION_COLUMNS = """id, brand_id, tenant_id, platform, account_id, account_name, scopes, access_token,
              refresh_token, expires_at, status, last_verified_at, last_error, refresh_failures,
              next_refresh_at, created_at, updated_at"""


def connection_of(row: asyncpg.Record) -> Connection:
    return Connection(
        id=row["id"],
        brand_id=row["brand_id"],
        tenant_id=row["tenant_id"],
        platform=row["platform"],
        account_id=row["account_id"],
        account_name=row["account_name"],
        scopes=list(row["scopes"]),
        access_token_ct=row["access_token"],
        refresh_token_ct=row["refresh_token"],
        expires_at=row["expires_at"],
        status=Status(row["status"]),
        last_verified_at=row["last_verified_at"],
        last_error=row["last_error"],
        refresh_failures=row["refresh_failures"],
        next_refresh_at=row["next_refresh_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class SqlConnections(Repository):
    """The platform_connections repository on one unit of work's connection (its brand scope and
    transaction are the caller's)."""

    async def get(
        self, brand_id: uuid.UUID, connection_id: uuid.UUID, *, lock: bool = False
    ) -> Connection | None:
        row = await self.conn.fetchrow(
            f"SELECT {CONNECTION_COLUMNS} FROM platform_connections WHERE id = $1 AND brand_id = $2"
            + (" FOR UPDATE" if lock else ""),
            connection_id,
            brand_id,
        )
        return connection_of(row) if row else None

    async def find_by_account(
        self, brand_id: uuid.UUID, platform: str, account_id: str, *, lock: bool = False
    ) -> Connection | None:
        row = await self.conn.fetchrow(
            f"""SELECT {CONNECTION_COLUMNS} FROM platform_connections
                WHERE brand_id = $1 AND platform = $2 AND account_id = $3"""
            + (" FOR UPDATE" if lock else ""),
            brand_id,
            platform,
            account_id,
        )
        return connection_of(row) if row else None

    async def find_across_brands(self, platform: str, account_id: str) -> list[Connection]:
        """Every brand's connection to one platform account (a platform webhook names no brand)."""
        rows = await self.conn.fetch(
            f"SELECT {CONNECTION_COLUMNS} FROM platform_connections WHERE platform = $1 AND account_id = $2 FOR UPDATE",
            platform,
            account_id,
        )
        return [connection_of(row) for row in rows]

    async def connected_on(self, platforms: list[str], limit: int) -> list[Connection]:
        rows = await self.conn.fetch(
            f"""SELECT {CONNECTION_COLUMNS} FROM platform_connections
                WHERE status = 'connected' AND platform = ANY($1::text[]) ORDER BY id LIMIT $2""",
            platforms,
            limit,
        )
        return [connection_of(row) for row in rows]

    async def list_for_brand(
        self, brand_id: uuid.UUID, platform: str | None, status: str | None
    ) -> list[Connection]:
        rows = await self.conn.fetch(
            f"""SELECT {CONNECTION_COLUMNS} FROM platform_connections
                WHERE brand_id = $1 AND ($2::text IS NULL OR platform = $2) AND ($3::text IS NULL OR status = $3)
                ORDER BY platform, account_name""",
            brand_id,
            platform,
            status,
        )
        return [connection_of(row) for row in rows]

    async def expiring_within(self, brand_id: uuid.UUID, seconds: float) -> list[Connection]:
        rows = await self.conn.fetch(
            f"""SELECT {CONNECTION_COLUMNS} FROM platform_connections
                WHERE brand_id = $1 AND status = 'connected'
                  AND expires_at <= now() + make_interval(secs => $2)
                ORDER BY expires_at""",
            brand_id,
            seconds,
        )
        return [connection_of(row) for row in rows]

    async def stats(self, brand_id: uuid.UUID) -> list[tuple[str, str, int]]:
        rows = await self.conn.fetch(
            """SELECT platform, status, count(*) AS n FROM platform_connections
               WHERE brand_id = $1 GROUP BY platform, status ORDER BY platform, status""",
            brand_id,
        )
        return [(row["platform"], row["status"], row["n"]) for row in rows]

    async def insert(
        self,
        *,
        connection_id: uuid.UUID,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        platform: str,
        account_id: str,
        account_name: str,
        scopes: list[str],
        tokens: SealedTokens,
        connected_by: str,
    ) -> None:
        await self.conn.execute(
            """INSERT INTO platform_connections (id, brand_id, tenant_id, platform, account_id, account_name, scopes,
                   access_token, refresh_token, expires_at, status, last_verified_at, connected_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'connected', now(), $11)""",
            connection_id,
            brand_id,
            tenant_id,
            platform,
            account_id,
            account_name,
            scopes,
            tokens.access_token_ct,
            tokens.refresh_token_ct,
            tokens.expires_at,
            connected_by,
        )

    async def store_reconnect(
        self,
        connection_id: uuid.UUID,
        *,
        account_name: str,
        scopes: list[str],
        tokens: SealedTokens,
        connected_by: str,
    ) -> None:
        # COALESCE: a platform that sent no new refresh token leaves the stored one in place.
        await self.conn.execute(
            """UPDATE platform_connections
               SET account_name = $2, scopes = $3, access_token = $4, refresh_token = COALESCE($5, refresh_token),
                   expires_at = $6, status = 'connected', last_verified_at = now(), last_error = NULL,
                   refresh_failures = 0, next_refresh_at = NULL, connected_by = $7, tokens_issued_at = now(),
                   updated_at = now()
               WHERE id = $1""",
            connection_id,
            account_name,
            scopes,
            tokens.access_token_ct,
            tokens.refresh_token_ct,
            tokens.expires_at,
            connected_by,
        )

    async def store_refreshed(self, connection_id: uuid.UUID, tokens: SealedTokens) -> None:
        await self.conn.execute(
            """UPDATE platform_connections
               SET access_token = $2, refresh_token = COALESCE($3, refresh_token), expires_at = $4,
                   last_error = NULL, refresh_failures = 0, next_refresh_at = NULL, tokens_issued_at = now(),
                   updated_at = now()
               WHERE id = $1""",
            connection_id,
            tokens.access_token_ct,
            tokens.refresh_token_ct,
            tokens.expires_at,
        )

    async def record_transient_failure(self, connection_id: uuid.UUID, error: str, backoff_s: float) -> None:
        await self.conn.execute(
            """UPDATE platform_connections
               SET refresh_failures = refresh_failures + 1, last_error = $2,
                   next_refresh_at = now() + make_interval(secs => $3), updated_at = now()
               WHERE id = $1""",
            connection_id,
            error,
            backoff_s,
        )

    async def set_status(self, connection_id: uuid.UUID, status: Status, error: str | None) -> None:
        await self.conn.execute(
            "UPDATE platform_connections SET status = $2, last_error = $3, updated_at = now() WHERE id = $1",
            connection_id,
            status.value,
            error,
        )

    async def mark_verified(self, connection_id: uuid.UUID, account_name: str) -> None:
        await self.conn.execute(
            """UPDATE platform_connections SET last_verified_at = now(), account_name = $2, last_error = NULL,
                   updated_at = now() WHERE id = $1""",
            connection_id,
            account_name,
        )

    async def wipe_tokens(self, connection_id: uuid.UUID) -> None:
        await self.conn.execute(
            """UPDATE platform_connections SET access_token = NULL, refresh_token = NULL, status = 'disconnected',
                   updated_at = now() WHERE id = $1""",
            connection_id,
        )

    async def claim_due_refreshes(
        self, window_s: float, lease_s: float, limit: int
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """Connections due for a refresh, claimed for `lease_s` so other replicas skip them.

        Due: within the window of expiry, or past half of the token's lifetime if that comes later
        (a token that lives five minutes is not refreshed on every tick of a fifteen-minute window)."""
        rows = await self.conn.fetch(
            """UPDATE platform_connections SET next_refresh_at = now() + make_interval(secs => $2)
               WHERE id IN (
                   SELECT id FROM platform_connections
                   WHERE status = 'connected' AND refresh_token IS NOT NULL
                     AND expires_at - now() <= least(make_interval(secs => $1), (expires_at - tokens_issued_at) / 2)
                     AND (next_refresh_at IS NULL OR next_refresh_at <= now())
                   ORDER BY expires_at
                   LIMIT $3
                   FOR UPDATE SKIP LOCKED)
               RETURNING id, brand_id""",
            window_s,
            lease_s,
            limit,
        )
        return [(row["id"], row["brand_id"]) for row in rows]

    # -- key rotation (rotate-keys, as worker: every brand's rows) ------------------------------

    async def under_old_keys(
        self, active_key_id: str, after_id: uuid.UUID | None, limit: int
    ) -> list[tuple[uuid.UUID, str | None, str | None]]:
        """(id, access ciphertext, refresh ciphertext) of rows sealed under another key, locked; a
        row locked elsewhere (being refreshed) is skipped. Keyset pages: pass the last id seen."""
        rows = await self.conn.fetch(
            """SELECT id, access_token, refresh_token FROM platform_connections
               WHERE (split_part(access_token, ':', 2) <> $1 OR split_part(refresh_token, ':', 2) <> $1)
                 AND ($2::uuid IS NULL OR id > $2)
               ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED""",
            active_key_id,
            after_id,
            limit,
        )
        return [(row["id"], row["access_token"], row["refresh_token"]) for row in rows]

    async def store_resealed(
        self, connection_id: uuid.UUID, access_token_ct: str | None, refresh_token_ct: str | None
    ) -> None:
        await self.conn.execute(
            "UPDATE platform_connections SET access_token = $2, refresh_token = $3 WHERE id = $1",
            connection_id,
            access_token_ct,
            refresh_token_ct,
        )

    async def count_under_old_keys(self, active_key_id: str) -> int:
        count: int = await self.conn.fetchval(
            """SELECT count(*) FROM platform_connections
               WHERE split_part(access_token, ':', 2) <> $1 OR split_part(refresh_token, ':', 2) <> $1""",
            active_key_id,
        )
        return count
