"""SQL for approval rounds, the brands and reviewers we know, and approval policies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, overload

import asyncpg
import orjson

from aligned_approval.domain.policy import Mode, Policy
from aligned_common.units import Repository

Row = dict[str, Any]

_ROUND_COLUMNS = """id, brand_id, tenant_id, job_id, round, status, author_id, content, targets, scheduled_at,
    approver_roles, approver_users, note, opened_at, updated_at, decided_at, decided_by, decision_comment, content_hash"""


@overload
def _round(record: None) -> None: ...
@overload
def _round(record: asyncpg.Record) -> Row: ...
def _round(record: asyncpg.Record | None) -> Row | None:
    if record is None:
        return None
    row = dict(record)
    row["targets"] = orjson.loads(row["targets"]) if isinstance(row["targets"], str) else row["targets"]
    return row


_POLICY_COLUMNS = (
    "id, brand_id, connection_id, user_id, mode, approver_roles, approver_users, waiver_roles, "
    "created_at, updated_at"
)


class SqlRounds(Repository):
    """Approval rounds (post_approvals)."""

    async def insert_round(self, **values: Any) -> Row | None:
        """The new round, or None when this (job, round) is already open (a redelivery or a race)."""
        record = await self.conn.fetchrow(
            f"""INSERT INTO post_approvals (id, brand_id, tenant_id, job_id, round, author_id, content, targets,
                                            scheduled_at, approver_roles, approver_users, content_hash)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12)
                ON CONFLICT (brand_id, job_id, round) DO NOTHING RETURNING {_ROUND_COLUMNS}""",
            uuid.uuid4(),
            values["brand_id"],
            values["tenant_id"],
            values["job_id"],
            values["round"],
            values["author_id"],
            values["content"],
            orjson.dumps(values["targets"]).decode(),
            values["scheduled_at"],
            values["approver_roles"],
            values["approver_users"],
            values.get("content_hash"),
        )
        return _round(record)

    async def get_round(
        self, brand_id: uuid.UUID, approval_id: uuid.UUID, *, lock: bool = False
    ) -> Row | None:
        record = await self.conn.fetchrow(
            f"SELECT {_ROUND_COLUMNS} FROM post_approvals WHERE id = $1 AND brand_id = $2"
            + (" FOR UPDATE" if lock else ""),
            approval_id,
            brand_id,
        )
        return _round(record)

    async def latest_round(self, brand_id: uuid.UUID, job_id: uuid.UUID) -> Row | None:
        record = await self.conn.fetchrow(
            f"""SELECT {_ROUND_COLUMNS} FROM post_approvals WHERE brand_id = $1 AND job_id = $2
                ORDER BY round DESC LIMIT 1 FOR UPDATE""",
            brand_id,
            job_id,
        )
        return _round(record)

    async def rounds_of_job(self, brand_id: uuid.UUID, job_id: uuid.UUID) -> list[Row]:
        records = await self.conn.fetch(
            f"SELECT {_ROUND_COLUMNS} FROM post_approvals WHERE brand_id = $1 AND job_id = $2 ORDER BY round",
            brand_id,
            job_id,
        )
        return [_round(r) for r in records]

    async def cancel_pending_rounds(
        self, brand_id: uuid.UUID, job_id: uuid.UUID, below_round: int | None = None
    ) -> int:
        result = await self.conn.execute(
            """UPDATE post_approvals SET status = 'cancelled', updated_at = clock_timestamp()
               WHERE brand_id = $1 AND job_id = $2 AND status = 'pending' AND ($3::int IS NULL OR round < $3)""",
            brand_id,
            job_id,
            below_round,
        )
        return int(result.split()[-1])

    async def record_decision(
        self, approval_id: uuid.UUID, status: str, decided_by: str, comment: str | None
    ) -> Row | None:
        """Locks the round; None when it was no longer pending (someone decided first)."""
        record = await self.conn.fetchrow(
            f"""UPDATE post_approvals
                SET status = $2, decided_by = $3, decision_comment = $4,
                    decided_at = clock_timestamp(), updated_at = clock_timestamp()
                WHERE id = $1 AND status = 'pending' RETURNING {_ROUND_COLUMNS}""",
            approval_id,
            status,
            decided_by,
            comment,
        )
        return _round(record)

    async def update_pending_content(
        self, approval_id: uuid.UUID, content: str, scheduled_at: datetime | None
    ) -> None:
        await self.conn.execute(
            """UPDATE post_approvals SET content = $2, scheduled_at = $3, updated_at = clock_timestamp()
               WHERE id = $1 AND status = 'pending'""",
            approval_id,
            content,
            scheduled_at,
        )

    async def update_round_details(
        self, approval_id: uuid.UUID, *, note: str | None, approver_users: list[str] | None
    ) -> Row | None:
        record = await self.conn.fetchrow(
            f"""UPDATE post_approvals SET note = coalesce($2, note), approver_users = coalesce($3, approver_users),
                       updated_at = clock_timestamp()
                WHERE id = $1 AND status = 'pending' RETURNING {_ROUND_COLUMNS}""",
            approval_id,
            note,
            approver_users,
        )
        return _round(record)

    async def status_for_share(self, approval_id: uuid.UUID) -> str | None:
        """FOR SHARE waits for a decision being committed, so a decided round never escalates."""
        return await self.conn.fetchval(
            "SELECT status FROM post_approvals WHERE id = $1 FOR SHARE", approval_id
        )

    async def list_rounds(
        self,
        brand_id: uuid.UUID,
        *,
        status: str | None,
        reviewer: tuple[str, str | None] | None,
        opened_before: datetime | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[Row]:
        """Oldest first (the age a reviewer cares about), keyset-paginated on (opened_at, id)."""
        reviewer_user, reviewer_role = reviewer if reviewer else (None, None)
        records = await self.conn.fetch(
            f"""SELECT {_ROUND_COLUMNS} FROM post_approvals
                WHERE brand_id = $1
                  AND ($2::text IS NULL OR status = $2)
                  AND ($3::text IS NULL OR $3 = ANY(approver_users) OR $4 = ANY(approver_roles))
                  AND ($5::timestamptz IS NULL OR opened_at <= $5)
                  AND ($6::timestamptz IS NULL OR (opened_at, id) > ($6, $7::uuid))
                ORDER BY opened_at, id LIMIT $8""",
            brand_id,
            status,
            reviewer_user,
            reviewer_role,
            opened_before,
            after[0] if after else None,
            after[1] if after else None,
            limit,
        )
        return [_round(r) for r in records]


# -- brands and reviewers (from gateway events) -------------------------------------------
class SqlMembers(Repository):
    """The brands and reviewers we know (from gateway events)."""

    async def upsert_brand(
        self, brand_id: uuid.UUID, tenant_id: uuid.UUID, name: str | None, time_zone: str
    ) -> None:
        await self.conn.execute(
            """INSERT INTO brands (brand_id, tenant_id, name, time_zone) VALUES ($1, $2, $3, $4)
               ON CONFLICT (brand_id) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone, updated_at = now()""",
            brand_id,
            tenant_id,
            name,
            time_zone,
        )

    async def archive_brand(self, brand_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
        await self.conn.execute(
            """INSERT INTO brands (brand_id, tenant_id, archived_at) VALUES ($1, $2, now())
               ON CONFLICT (brand_id) DO UPDATE SET archived_at = now(), updated_at = now()""",
            brand_id,
            tenant_id,
        )

    async def upsert_reviewer(self, brand_id: uuid.UUID, user_id: str, email: str | None, role: str) -> None:
        await self.conn.execute(
            """INSERT INTO reviewers (brand_id, user_id, email, role) VALUES ($1, $2, coalesce($3, ''), $4)
               ON CONFLICT (brand_id, user_id) DO UPDATE
               SET email = coalesce($3, reviewers.email), role = excluded.role, updated_at = now()""",
            brand_id,
            user_id,
            email,
            role,
        )

    async def remove_reviewer(self, brand_id: uuid.UUID, user_id: str) -> None:
        await self.conn.execute(
            "DELETE FROM reviewers WHERE brand_id = $1 AND user_id = $2", brand_id, user_id
        )

    async def list_reviewers(self, brand_id: uuid.UUID) -> list[Row]:
        records = await self.conn.fetch(
            "SELECT user_id, email, role, updated_at FROM reviewers WHERE brand_id = $1 ORDER BY user_id",
            brand_id,
        )
        return [dict(r) for r in records]

    async def reviewer_emails(self, brand_id: uuid.UUID, *, roles: list[str], users: list[str]) -> list[str]:
        records = await self.conn.fetch(
            """SELECT DISTINCT lower(email) AS email FROM reviewers
               WHERE brand_id = $1 AND email <> '' AND (role = ANY($2) OR user_id = ANY($3)) ORDER BY 1""",
            brand_id,
            roles,
            users,
        )
        return [r["email"] for r in records]

    async def reviewer_by_email(self, brand_id: uuid.UUID, email: str) -> Row | None:
        """The brand's member with this address (the reviewers projection), if any."""
        record = await self.conn.fetchrow(
            "SELECT user_id, role FROM reviewers WHERE brand_id = $1 AND lower(email) = lower($2) LIMIT 1",
            brand_id,
            email,
        )
        return dict(record) if record else None

    async def brand_time_zone(self, brand_id: uuid.UUID) -> str:
        return await self.conn.fetchval("SELECT time_zone FROM brands WHERE brand_id = $1", brand_id) or "UTC"

    async def role_of(self, brand_id: uuid.UUID, user_id: str) -> str | None:
        return await self.conn.fetchval(
            "SELECT role FROM reviewers WHERE brand_id = $1 AND user_id = $2", brand_id, user_id
        )

    async def brand_tenant(self, brand_id: uuid.UUID) -> uuid.UUID | None:
        """The brand's tenant as the gateway announced it (None: not announced yet)."""
        return await self.conn.fetchval("SELECT tenant_id FROM brands WHERE brand_id = $1", brand_id)


# -- policies ------------------------------------------------------------------------------
class SqlPolicies(Repository):
    """Approval policies."""

    async def policies(self, brand_id: uuid.UUID) -> list[Policy]:
        return [
            Policy(
                Mode(r["mode"]),
                list(r["approver_roles"]),
                list(r["approver_users"]),
                r["connection_id"],
                r["user_id"],
            )
            for r in await self.list_policies(brand_id)
        ]

    async def list_policies(self, brand_id: uuid.UUID) -> list[Row]:
        records = await self.conn.fetch(
            f"SELECT {_POLICY_COLUMNS} FROM approval_policies WHERE brand_id = $1 ORDER BY created_at, id",
            brand_id,
        )
        return [dict(r) for r in records]

    async def policy_of_scope(
        self, brand_id: uuid.UUID, connection_id: uuid.UUID | None, user_id: str | None
    ) -> Row | None:
        """The policy a put would replace (locked: the before of the change stays the before)."""
        record = await self.conn.fetchrow(
            f"""SELECT {_POLICY_COLUMNS} FROM approval_policies
                WHERE brand_id = $1 AND connection_id IS NOT DISTINCT FROM $2 AND user_id IS NOT DISTINCT FROM $3
                FOR UPDATE""",
            brand_id,
            connection_id,
            user_id,
        )
        return dict(record) if record else None

    async def upsert_policy(self, brand_id: uuid.UUID, **values: Any) -> Row:
        record = await self.conn.fetchrow(
            f"""INSERT INTO approval_policies (id, brand_id, connection_id, user_id, mode, approver_roles, approver_users,
                                               waiver_roles)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (brand_id, coalesce(connection_id, '00000000-0000-0000-0000-000000000000'::uuid), coalesce(user_id, ''))
                DO UPDATE SET mode = excluded.mode, approver_roles = excluded.approver_roles,
                              approver_users = excluded.approver_users, waiver_roles = excluded.waiver_roles, updated_at = now()
                RETURNING {_POLICY_COLUMNS}""",
            uuid.uuid4(),
            brand_id,
            values["connection_id"],
            values["user_id"],
            values["mode"],
            values["approver_roles"],
            values["approver_users"],
            values.get("waiver_roles") or ["owner", "admin"],
        )
        return dict(record)

    async def delete_policy(self, brand_id: uuid.UUID, policy_id: uuid.UUID) -> Row | None:
        """The deleted policy, or None when there was none."""
        record = await self.conn.fetchrow(
            f"DELETE FROM approval_policies WHERE brand_id = $1 AND id = $2 RETURNING {_POLICY_COLUMNS}",
            brand_id,
            policy_id,
        )
        return dict(record) if record else None
