"""SQL for the append-only audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson

from aligned_approval.domain.audit import AuditEntry
from aligned_common.units import Repository

Row = dict[str, Any]
_COLUMNS = """event_id, occurred_at, brand_id, tenant_id, source, action, actor, entity_type, entity_id,
    before, after, trace_id, actor_email, ip_address, user_agent, recorded_at"""

# Months whose partition this process has seen exist, per schema: saves a call per event.
_known_partitions: set[tuple[str, str]] = set()


def _json(value: dict | None) -> str | None:
    return orjson.dumps(value).decode() if value is not None else None


class SqlAudit(Repository):
    """The audit trail (partitioned by month)."""

    async def create_partition(self, month: datetime) -> str:
        """The partition of `month` (created if missing); its name."""
        return await self.conn.fetchval("SELECT audit_ensure_partition($1)", month)

    async def ensure_partition(self, schema: str, at: datetime) -> None:
        month = at.strftime("%Y%m")
        if (schema, month) in _known_partitions:
            return
        await self.conn.fetchval("SELECT audit_ensure_partition($1)", at)
        _known_partitions.add((schema, month))

    async def append(self, schema: str, entry: AuditEntry) -> bool:
        """False when the event is already in the trail (a redelivery)."""
        await self.ensure_partition(schema, entry.occurred_at)
        inserted = await self.conn.fetchval(
            """INSERT INTO audit_logs (event_id, occurred_at, brand_id, tenant_id, source, action, actor,
                                       entity_type, entity_id, before, after, trace_id, actor_email, ip_address, user_agent)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12, $13, $14, $15)
               ON CONFLICT (event_id, occurred_at) DO NOTHING RETURNING true""",
            entry.event_id,
            entry.occurred_at,
            entry.brand_id,
            entry.tenant_id,
            entry.source,
            entry.action,
            entry.actor,
            entry.entity_type,
            entry.entity_id,
            _json(entry.before),
            _json(entry.after),
            entry.trace_id,
            entry.actor_email,
            entry.ip_address,
            entry.user_agent,
        )
        return bool(inserted)

    async def query(
        self,
        brand_id: uuid.UUID,
        *,
        entity_type: str | None,
        entity_id: str | None,
        actor: str | None,
        action: str | None,
        since: datetime | None,
        until: datetime | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[Row]:
        """Newest first, keyset-paginated on (occurred_at, event_id); the time range prunes partitions."""
        records = await self.conn.fetch(
            f"""SELECT {_COLUMNS} FROM audit_logs
                WHERE brand_id = $1
                  AND ($2::text IS NULL OR entity_type = $2)
                  AND ($3::text IS NULL OR entity_id = $3)
                  AND ($4::text IS NULL OR actor = $4)
                  AND ($5::text IS NULL OR action = $5)
                  AND ($6::timestamptz IS NULL OR occurred_at >= $6)
                  AND ($7::timestamptz IS NULL OR occurred_at < $7)
                  AND ($8::timestamptz IS NULL OR (occurred_at, event_id) < ($8, $9::uuid))
                ORDER BY occurred_at DESC, event_id DESC LIMIT $10""",
            brand_id,
            entity_type,
            entity_id,
            actor,
            action,
            since,
            until,
            after[0] if after else None,
            after[1] if after else None,
            limit,
        )
        return [
            {
                **dict(r),
                "before": orjson.loads(r["before"]) if r["before"] else None,
                "after": orjson.loads(r["after"]) if r["after"] else None,
            }
            for r in records
        ]
