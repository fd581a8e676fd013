"""SQL for escalation rules, their firings and their history."""

from __future__ import annotations

import uuid
from typing import Any, overload

import asyncpg
import orjson

from aligned_approval.domain.escalation import RuleIn
from aligned_common.units import Repository

Row = dict[str, Any]
_COLUMNS = "id, brand_id, name, enabled, levels, quiet_start, quiet_end, created_at, updated_at"


@overload
def _rule(record: None) -> None: ...
@overload
def _rule(record: asyncpg.Record) -> Row: ...
def _rule(record: asyncpg.Record | None) -> Row | None:
    if record is None:
        return None
    row = dict(record)
    row["levels"] = orjson.loads(row["levels"])
    start, end = row.pop("quiet_start"), row.pop("quiet_end")
    row["quiet_hours"] = {"start": start, "end": end} if start is not None else None
    return row


def _quiet(rule: RuleIn) -> tuple:
    return (rule.quiet_hours.start, rule.quiet_hours.end) if rule.quiet_hours else (None, None)


class SqlEscalations(Repository):
    """Escalation rules and what they fired."""

    async def insert_rule(self, brand_id: uuid.UUID, rule: RuleIn) -> Row:
        record = await self.conn.fetchrow(
            f"""INSERT INTO escalation_rules (id, brand_id, name, enabled, levels, quiet_start, quiet_end)
                VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7) RETURNING {_COLUMNS}""",
            uuid.uuid4(),
            brand_id,
            rule.name,
            rule.enabled,
            orjson.dumps([level.model_dump(mode="json") for level in rule.levels]).decode(),
            *_quiet(rule),
        )
        return _rule(record)

    async def replace_rule(self, brand_id: uuid.UUID, rule_id: uuid.UUID, rule: RuleIn) -> Row | None:
        record = await self.conn.fetchrow(
            f"""UPDATE escalation_rules SET name = $3, enabled = $4, levels = $5::jsonb, quiet_start = $6, quiet_end = $7,
                       updated_at = now()
                WHERE brand_id = $1 AND id = $2 RETURNING {_COLUMNS}""",
            brand_id,
            rule_id,
            rule.name,
            rule.enabled,
            orjson.dumps([level.model_dump(mode="json") for level in rule.levels]).decode(),
            *_quiet(rule),
        )
        return _rule(record)

    async def get_rule(
        self, brand_id: uuid.UUID, rule_id: uuid.UUID, *, for_update: bool = False
    ) -> Row | None:
        lock = " FOR UPDATE" if for_update else ""  # the before of a change stays the before
        return _rule(
            await self.conn.fetchrow(
                f"SELECT {_COLUMNS} FROM escalation_rules WHERE brand_id = $1 AND id = $2{lock}",
                brand_id,
                rule_id,
            )
        )

    async def list_rules(self, brand_id: uuid.UUID) -> list[Row]:
        records = await self.conn.fetch(
            f"SELECT {_COLUMNS} FROM escalation_rules WHERE brand_id = $1 ORDER BY created_at, id", brand_id
        )
        return [_rule(r) for r in records]

    async def delete_rule(self, brand_id: uuid.UUID, rule_id: uuid.UUID) -> bool:
        # Disabled rather than deleted when it already fired, so escalation_events keep their rule.
        result = await self.conn.execute(
            "DELETE FROM escalation_rules WHERE brand_id = $1 AND id = $2", brand_id, rule_id
        )
        return result.endswith(" 1")

    async def candidates(self, limit: int) -> list[Row]:
        """Pending rounds with an enabled rule of their brand, and how far that rule has fired."""
        records = await self.conn.fetch(
            """SELECT a.id AS approval_id, a.brand_id, a.tenant_id, a.job_id, a.opened_at,
                      a.approver_roles, a.approver_users,
                      r.id AS rule_id, r.levels, r.quiet_start, r.quiet_end,
                      coalesce(b.time_zone, 'UTC') AS time_zone,
                      coalesce((SELECT max(e.level) FROM escalation_events e
                                WHERE e.approval_id = a.id AND e.rule_id = r.id), 0) AS fired_level
               FROM post_approvals a
               JOIN escalation_rules r ON r.brand_id = a.brand_id AND r.enabled
               LEFT JOIN brands b ON b.brand_id = a.brand_id
               WHERE a.status = 'pending'
               ORDER BY a.opened_at LIMIT $1""",
            limit,
        )
        rows = []
        for record in records:
            row = dict(record)
            row["levels"] = orjson.loads(row["levels"])
            rows.append(row)
        return rows

    async def claim_firing(
        self, brand_id: uuid.UUID, approval_id: uuid.UUID, rule_id: uuid.UUID, level: int
    ) -> bool:
        """True for exactly one caller per (approval, rule, level), whatever the number of replicas:
        a second replica's insert waits on the first one's uncommitted row, then conflicts."""
        inserted = await self.conn.fetchval(
            """INSERT INTO escalation_events (id, brand_id, approval_id, rule_id, level)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (approval_id, rule_id, level) DO NOTHING RETURNING true""",
            uuid.uuid4(),
            brand_id,
            approval_id,
            rule_id,
            level,
        )
        return bool(inserted)

    async def set_notified(
        self, approval_id: uuid.UUID, rule_id: uuid.UUID, level: int, notified: list[str]
    ) -> None:
        await self.conn.execute(
            "UPDATE escalation_events SET notified = $4 WHERE approval_id = $1 AND rule_id = $2 AND level = $3",
            approval_id,
            rule_id,
            level,
            notified,
        )

    async def record_step(
        self,
        brand_id: uuid.UUID,
        approval_id: uuid.UUID,
        rule_id: uuid.UUID,
        level: int,
        step: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await self.conn.execute(
            """INSERT INTO escalation_history (brand_id, approval_id, rule_id, level, step, detail)
               VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (approval_id, rule_id, level, step) DO NOTHING""",
            brand_id,
            approval_id,
            rule_id,
            level,
            step,
            orjson.dumps(detail or {}).decode(),
        )

    async def resolve_fired(self, approval_id: uuid.UUID, status: str) -> None:
        """A decision ends every escalation of the round: one 'resolved' step per fired level."""
        await self.conn.execute(
            """INSERT INTO escalation_history (brand_id, approval_id, rule_id, level, step, detail)
               SELECT brand_id, approval_id, rule_id, level, 'resolved', jsonb_build_object('status', $2::text)
               FROM escalation_events WHERE approval_id = $1
               ON CONFLICT (approval_id, rule_id, level, step) DO NOTHING""",
            approval_id,
            status,
        )

    async def events_of(self, brand_id: uuid.UUID, approval_id: uuid.UUID) -> list[Row]:
        records = await self.conn.fetch(
            """SELECT rule_id, level, notified, fired_at FROM escalation_events
               WHERE brand_id = $1 AND approval_id = $2 ORDER BY fired_at""",
            brand_id,
            approval_id,
        )
        return [dict(r) for r in records]

    async def history_of(self, brand_id: uuid.UUID, approval_id: uuid.UUID) -> list[Row]:
        records = await self.conn.fetch(
            """SELECT rule_id, level, step, detail, at FROM escalation_history
               WHERE brand_id = $1 AND approval_id = $2 ORDER BY at, id""",
            brand_id,
            approval_id,
        )
        return [{**dict(r), "detail": orjson.loads(r["detail"])} for r in records]
