"""The accounts analytics may sync, as connections' events describe them."""

from __future__ import annotations

import uuid

import asyncpg

from aligned_common.units import Repository


class SqlAccounts(Repository):
    """The connected accounts analytics syncs (from connections' events)."""

    async def upsert_account(
        self,
        *,
        connection_id: uuid.UUID,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        platform: str,
        account_id: str | None,
        account_name: str | None,
        status: str,
        reason: str | None,
        sync_now: bool,
    ) -> None:
        """sync_now: a newly connected or restored account gets a sync right away."""
        await self.conn.execute(
            """INSERT INTO accounts (connection_id, brand_id, tenant_id, platform, account_id, account_name,
                                     status, status_reason, next_sync_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $9 THEN now() END)
               ON CONFLICT (connection_id) DO UPDATE SET
                   platform = excluded.platform,
                   account_id = coalesce(excluded.account_id, accounts.account_id),
                   account_name = coalesce(excluded.account_name, accounts.account_name),
                   status = excluded.status,
                   status_reason = excluded.status_reason,
                   next_sync_at = CASE WHEN $9 THEN now() ELSE accounts.next_sync_at END,
                   updated_at = now()""",
            connection_id,
            brand_id,
            tenant_id,
            platform,
            account_id,
            account_name,
            status,
            reason,
            sync_now,
        )

    async def list_accounts(self, brand_id: uuid.UUID) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            """SELECT connection_id, platform, account_id, account_name, status, status_reason,
                      next_sync_at, last_sync_requested_at
                 FROM accounts WHERE brand_id = $1 ORDER BY platform, connection_id""",
            brand_id,
        )

    async def known(
        self, brand_id: uuid.UUID, connection_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, asyncpg.Record]:
        """Which of these are the brand's accounts, with their status (an existing goal outlives a
        disconnect; a new one may not name a disconnected account)."""
        records = await self.conn.fetch(
            "SELECT connection_id, status FROM accounts WHERE brand_id = $1 AND connection_id = ANY($2::uuid[])",
            brand_id,
            connection_ids,
        )
        return {r["connection_id"]: r for r in records}

    async def lock_account(self, brand_id: uuid.UUID, connection_id: uuid.UUID) -> asyncpg.Record | None:
        return await self.conn.fetchrow(
            "SELECT * FROM accounts WHERE brand_id = $1 AND connection_id = $2 FOR UPDATE",
            brand_id,
            connection_id,
        )

    async def active_accounts(self, brand_id: uuid.UUID) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            "SELECT * FROM accounts WHERE brand_id = $1 AND status = 'active' ORDER BY connection_id FOR UPDATE",
            brand_id,
        )

    async def claim_due_accounts(self, interval_s: float, limit: int) -> list[asyncpg.Record]:
        """Due accounts, claimed so that another replica skips them, and pushed to their next slot."""
        return await self.conn.fetch(
            """WITH due AS (
                   SELECT connection_id FROM accounts
                    WHERE status = 'active' AND next_sync_at <= now()
                    ORDER BY next_sync_at
                    LIMIT $2
                    FOR UPDATE SKIP LOCKED)
               UPDATE accounts a
                  SET next_sync_at = now() + make_interval(secs => $1), last_sync_requested_at = now()
                 FROM due WHERE a.connection_id = due.connection_id
               RETURNING a.*""",
            interval_s,
            limit,
        )

    async def mark_requested(self, connection_id: uuid.UUID, interval_s: float) -> None:
        await self.conn.execute(
            """UPDATE accounts SET last_sync_requested_at = now(), next_sync_at = now() + make_interval(secs => $2)
                WHERE connection_id = $1""",
            connection_id,
            interval_s,
        )
