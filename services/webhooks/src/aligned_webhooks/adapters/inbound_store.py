"""SQL for inbound webhooks and the account -> brand map."""

from __future__ import annotations

import uuid
from datetime import datetime

import orjson

from aligned_common.units import Repository
from aligned_webhooks.domain.inbound import AccountOwner, VerifiedDelivery


class SqlInbound(Repository):
    """The inbound webhook events and account -> brand map repository on one unit of work's connection."""

    async def owners_of(self, provider: str, account_id: str | None) -> list[AccountOwner]:
        if not account_id:
            return []
        rows = await self.conn.fetch(
            "SELECT brand_id, tenant_id FROM provider_accounts WHERE provider = $1 AND account_id = $2 ORDER BY brand_id",
            provider,
            account_id,
        )
        return [AccountOwner(r["brand_id"], r["tenant_id"]) for r in rows]

    async def insert_event(
        self, event_id: uuid.UUID, delivery: VerifiedDelivery, owners: list[AccountOwner]
    ) -> bool:
        """False when (provider, provider_event_id) is already stored: a redelivery."""
        inserted = await self.conn.fetchval(
            """INSERT INTO webhook_events
                   (id, provider, provider_event_id, brand_ids, kind, account_id, headers, raw_body, signed_at, status)
               VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)
               ON CONFLICT (provider, provider_event_id) DO NOTHING
               RETURNING true""",
            event_id,
            delivery.provider,
            delivery.provider_event_id,
            [o.brand_id for o in owners],
            delivery.parsed.kind,
            delivery.parsed.account_id,
            orjson.dumps(delivery.headers).decode(),
            delivery.raw_body,
            delivery.signed_at,
            "emitted" if owners else "unmatched",
        )
        if not inserted:
            # Count redeliveries on the stored row: operators see a provider that keeps retrying.
            await self.conn.execute(
                """UPDATE webhook_events SET processing_attempts = processing_attempts + 1
                   WHERE provider = $1 AND provider_event_id = $2""",
                delivery.provider,
                delivery.provider_event_id,
            )
        return bool(inserted)

    async def remember_account(
        self,
        provider: str,
        account_id: str,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        connected_at: datetime,
    ) -> None:
        await self.conn.execute(
            """INSERT INTO provider_accounts (provider, account_id, brand_id, tenant_id, connection_id, connected_at)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (provider, account_id, brand_id)
               DO UPDATE SET connection_id = EXCLUDED.connection_id, tenant_id = EXCLUDED.tenant_id, connected_at = EXCLUDED.connected_at""",
            provider,
            account_id,
            brand_id,
            tenant_id,
            connection_id,
            connected_at,
        )

    async def forget_account(self, brand_id: uuid.UUID, connection_id: uuid.UUID) -> None:
        await self.conn.execute(
            "DELETE FROM provider_accounts WHERE brand_id = $1 AND connection_id = $2",
            brand_id,
            connection_id,
        )
