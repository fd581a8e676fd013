"""SQL for tenants, brands, brand members and invites (unqualified names: the UoW sets search_path)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg


async def active_role(conn: asyncpg.Connection, brand_id: uuid.UUID, user_id: str) -> str | None:
    return await conn.fetchval(
        """SELECT m.role FROM brand_members m JOIN brands b USING (brand_id)
            WHERE m.brand_id = $1 AND m.user_id = $2 AND b.status = 'active'""",
        brand_id,
        user_id,
    )


async def tenant_exists(conn: asyncpg.Connection, tenant_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM tenants WHERE tenant_id = $1", tenant_id))


async def manages_tenant(conn: asyncpg.Connection, tenant_id: uuid.UUID, user_id: str) -> bool:
    """Owner or admin of any active brand of the tenant (needs a cross-brand unit of work)."""
    return bool(
        await conn.fetchval(
            """SELECT 1 FROM brand_members m JOIN brands b USING (brand_id)
            WHERE b.tenant_id = $1 AND m.user_id = $2 AND m.role IN ('owner', 'admin') AND b.status = 'active'
            LIMIT 1""",
            tenant_id,
            user_id,
        )
    )


async def ensure_tenant(conn: asyncpg.Connection, tenant_id: uuid.UUID) -> None:
    await conn.execute("INSERT INTO tenants (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING", tenant_id)


async def insert_brand(conn, brand_id, tenant_id, name, time_zone, created_by) -> asyncpg.Record:
    return await conn.fetchrow(
        """INSERT INTO brands (brand_id, tenant_id, name, time_zone, created_by) VALUES ($1, $2, $3, $4, $5)
           RETURNING *""",
        brand_id,
        tenant_id,
        name,
        time_zone,
        created_by,
    )


async def get_brand(conn: asyncpg.Connection, brand_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM brands WHERE brand_id = $1", brand_id)


async def archive_brand(conn: asyncpg.Connection, brand_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """UPDATE brands SET status = 'archived', archived_at = now()
            WHERE brand_id = $1 AND status = 'active' RETURNING *""",
        brand_id,
    )


async def brands_of_user(conn: asyncpg.Connection, user_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT b.*, m.role FROM brand_members m JOIN brands b USING (brand_id)
            WHERE m.user_id = $1 AND b.status = 'active' ORDER BY b.created_at, b.brand_id""",
        user_id,
    )


async def insert_member(conn, brand_id, user_id, email, role) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """INSERT INTO brand_members (member_id, brand_id, user_id, email, role) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (brand_id, user_id) DO NOTHING RETURNING *""",
        uuid.uuid4(),
        brand_id,
        user_id,
        email,
        role,
    )


async def get_member(
    conn: asyncpg.Connection, brand_id: uuid.UUID, member_id: uuid.UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM brand_members WHERE brand_id = $1 AND member_id = $2 FOR UPDATE", brand_id, member_id
    )


async def list_members(
    conn, brand_id, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[asyncpg.Record]:
    if after is None:
        return await conn.fetch(
            "SELECT * FROM brand_members WHERE brand_id = $1 ORDER BY created_at, member_id LIMIT $2",
            brand_id,
            limit,
        )
    return await conn.fetch(
        """SELECT * FROM brand_members WHERE brand_id = $1 AND (created_at, member_id) > ($2, $3)
            ORDER BY created_at, member_id LIMIT $4""",
        brand_id,
        after[0],
        after[1],
        limit,
    )


async def count_owners(conn: asyncpg.Connection, brand_id: uuid.UUID) -> int:
    return await conn.fetchval(
        "SELECT count(*) FROM brand_members WHERE brand_id = $1 AND role = 'owner'", brand_id
    )


async def set_role(conn, brand_id, member_id, role) -> None:
    await conn.execute(
        "UPDATE brand_members SET role = $3, updated_at = now() WHERE brand_id = $1 AND member_id = $2",
        brand_id,
        member_id,
        role,
    )


async def delete_member(conn, brand_id, member_id) -> None:
    await conn.execute(
        "DELETE FROM brand_members WHERE brand_id = $1 AND member_id = $2", brand_id, member_id
    )


async def insert_invite(conn, brand_id, email, role, token_hash, invited_by, expires_at) -> asyncpg.Record:
    return await conn.fetchrow(
        """INSERT INTO invites (invite_id, brand_id, email, role, token_hash, invited_by, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *""",
        uuid.uuid4(),
        brand_id,
        email,
        role,
        token_hash,
        invited_by,
        expires_at,
    )


async def claim_invite(conn, brand_id, token_hash, user_id) -> asyncpg.Record | None:
    """Single use: only one caller ever gets the row back, and only before it expires."""
    return await conn.fetchrow(
        """UPDATE invites SET accepted_at = now(), accepted_by = $3
            WHERE brand_id = $1 AND token_hash = $2 AND accepted_at IS NULL AND revoked_at IS NULL
              AND expires_at > now()
        RETURNING *""",
        brand_id,
        token_hash,
        user_id,
    )
