"""Brands and members: plain async handlers, each change committed with its event (outbox)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aligned_common.app import Database
from aligned_common.clock import Clock
from aligned_common.db import Role, UnitOfWork
from aligned_common.events.gateway import (
    BrandArchived,
    BrandCreated,
    MemberAdded,
    MemberInvited,
    MemberRemoved,
    MemberRoleChanged,
)
from aligned_common.identity import Identity
from aligned_gateway.adapters import members_repo
from aligned_gateway.domain import cursor, invites
from aligned_gateway.domain.claims import Claims
from aligned_gateway.domain.errors import Conflict, Forbidden, NotFound
from aligned_gateway.domain.permissions import Permission, allows, may_grant
from aligned_gateway.service_layer.membership import MembershipCache

# A row as the repository returns it (an asyncpg Record): columns by name.
Row = Mapping[str, Any]


def _no_member() -> NotFound:
    return NotFound(title="Not found", detail="no such member in this brand")


@dataclass
class Admin:
    """What the admin handlers need: the database, the cache to invalidate, the clock."""

    database: Database
    members: MembershipCache
    invite_ttl_s: int
    clock: Clock

    def unit_of_work(self, *, brand_id: uuid.UUID | None = None, role: Role = "app") -> UnitOfWork:
        return UnitOfWork(self.database.pool, self.database.schema, brand_id=brand_id, role=role)


def _require(identity: Identity, permission: Permission) -> None:
    if not allows(identity.role, permission):
        raise Forbidden(title="Forbidden", detail=f"role {identity.role!r} lacks {permission.value}")


async def create_brand(admin: Admin, claims: Claims, name: str, time_zone: str, email: str) -> dict[str, Any]:
    """A tenant's first brand may be created by anyone whose token (from the identity
    provider) names the tenant with an owner/admin role; after that, only an owner/admin
    of one of the tenant's brands may add more. The creator becomes the brand's owner."""
    if claims.role not in ("owner", "admin"):
        raise Forbidden(title="Forbidden", detail="creating a brand needs an owner or admin token")
    # Cross-brand read of the tenant's memberships: no single brand scope applies (worker role).
    async with admin.unit_of_work(role="worker") as uow:
        if await members_repo.tenant_exists(
            uow.conn, claims.tenant_id
        ) and not await members_repo.manages_tenant(uow.conn, claims.tenant_id, claims.subject):
            raise Forbidden(
                title="Forbidden", detail="only an owner or admin of this tenant's brands may add brands"
            )
    brand_id = uuid.uuid4()
    async with admin.unit_of_work(brand_id=brand_id) as uow:
        await members_repo.ensure_tenant(uow.conn, claims.tenant_id)
        brand = await members_repo.insert_brand(
            uow.conn, brand_id, claims.tenant_id, name, time_zone, claims.subject
        )
        await members_repo.insert_member(uow.conn, brand_id, claims.subject, email, "owner")
        await uow.emit(
            BrandCreated(name=name, time_zone=time_zone),
            brand_id=brand_id,
            tenant_id=claims.tenant_id,
            subject=str(brand_id),
        )
        await uow.emit(
            MemberAdded(user_id=claims.subject, email=email, role="owner"),
            brand_id=brand_id,
            tenant_id=claims.tenant_id,
            subject=claims.subject,
        )
    admin.members.forget(brand_id, claims.subject)
    return brand_out(brand, role="owner")


async def my_brands(admin: Admin, claims: Claims) -> list[dict[str, Any]]:
    # The caller's memberships across brands: a cross-brand read by user id (worker role).
    async with admin.unit_of_work(role="worker") as uow:
        rows = await members_repo.brands_of_user(uow.conn, claims.subject)
    return [brand_out(r, role=r["role"]) for r in rows if r["tenant_id"] == claims.tenant_id]


async def archive_brand(admin: Admin, identity: Identity, brand_id: uuid.UUID) -> dict[str, Any]:
    if brand_id != identity.brand_id:
        raise NotFound(title="Not found", detail="no such brand")
    _require(identity, Permission.BRAND_ARCHIVE)
    async with admin.unit_of_work(brand_id=brand_id) as uow:
        brand = await members_repo.archive_brand(uow.conn, brand_id)
        if brand is None:
            raise Conflict(title="Already archived", detail="the brand is archived already")
        await uow.emit(
            BrandArchived(), brand_id=brand_id, tenant_id=identity.tenant_id, subject=str(brand_id)
        )
    admin.members.forget(brand_id)
    return brand_out(brand)


async def list_members(admin: Admin, identity: Identity, after: str | None, limit: int) -> dict[str, Any]:
    _require(identity, Permission.MEMBERS_READ)
    async with admin.unit_of_work(brand_id=identity.brand_id) as uow:
        rows = await members_repo.list_members(uow.conn, identity.brand_id, cursor.decode(after), limit + 1)
    page, more = rows[:limit], len(rows) > limit
    next_cursor = cursor.encode(page[-1]["created_at"], page[-1]["member_id"]) if more else None
    return {"items": [member_out(r) for r in page], "next_cursor": next_cursor}


async def invite(admin: Admin, identity: Identity, email: str, role: str) -> dict[str, Any]:
    _require(identity, Permission.MEMBERS_MANAGE)
    if not may_grant(identity.role, role):
        raise Forbidden(title="Forbidden", detail=f"a {identity.role} cannot invite an {role}")
    token, token_hash = invites.new_token(identity.brand_id)
    expires_at = admin.clock.now() + timedelta(seconds=admin.invite_ttl_s)
    async with admin.unit_of_work(brand_id=identity.brand_id) as uow:
        row = await members_repo.insert_invite(
            uow.conn, identity.brand_id, email.lower(), role, token_hash, identity.user_id, expires_at
        )
        await uow.emit(
            MemberInvited(
                invite_id=row["invite_id"],
                email=row["email"],
                role=role,
                invited_by=identity.user_id,
                expires_at=expires_at,
            ),
            brand_id=identity.brand_id,
            tenant_id=identity.tenant_id,
            subject=str(row["invite_id"]),
        )
    # The token is shown once, to the inviter, to send on; only its hash is kept.
    return {
        "invite_id": row["invite_id"],
        "email": row["email"],
        "role": role,
        "expires_at": expires_at,
        "token": token,
    }


async def accept_invite(admin: Admin, claims: Claims, token: str) -> dict[str, Any]:
    parsed = invites.parse(token)
    if parsed is None or parsed[1] is None:
        raise NotFound(title="Not found", detail="no such invite")
    brand_id, token_hash = parsed
    async with admin.unit_of_work(brand_id=brand_id) as uow:
        brand = await members_repo.get_brand(uow.conn, brand_id)
        row = await members_repo.claim_invite(uow.conn, brand_id, token_hash, claims.subject)
        if row is None or brand is None or brand["status"] != "active":
            raise NotFound(title="Not found", detail="no such invite, or it was used or has expired")
        if brand["tenant_id"] != claims.tenant_id:
            raise NotFound(title="Not found", detail="no such invite")
        if claims.email and claims.email.lower() != row["email"]:
            raise Forbidden(title="Forbidden", detail="this invite was sent to another e-mail address")
        member = await members_repo.insert_member(
            uow.conn, brand_id, claims.subject, row["email"], row["role"]
        )
        if member is None:
            raise Conflict(title="Already a member", detail="you are a member of this brand already")
        await uow.emit(
            MemberAdded(user_id=claims.subject, email=row["email"], role=row["role"]),
            brand_id=brand_id,
            tenant_id=brand["tenant_id"],
            subject=claims.subject,
        )
    admin.members.forget(brand_id, claims.subject)
    return member_out(member)


async def change_role(admin: Admin, identity: Identity, member_id: uuid.UUID, role: str) -> dict[str, Any]:
    _require(identity, Permission.MEMBERS_MANAGE)
    async with admin.unit_of_work(brand_id=identity.brand_id) as uow:
        member = await members_repo.get_member(uow.conn, identity.brand_id, member_id)
        if member is None:
            raise _no_member()
        if not may_grant(identity.role, role) or not may_grant(identity.role, member["role"]):
            raise Forbidden(
                title="Forbidden", detail=f"a {identity.role} cannot change an {member['role']} to {role}"
            )
        if member["role"] == role:
            return member_out(member)
        if member["role"] == "owner" and await members_repo.count_owners(uow.conn, identity.brand_id) == 1:
            raise Conflict(title="Last owner", detail="a brand keeps at least one owner")
        await members_repo.set_role(uow.conn, identity.brand_id, member_id, role)
        await uow.emit(
            MemberRoleChanged(user_id=member["user_id"], old_role=member["role"], new_role=role),
            brand_id=identity.brand_id,
            tenant_id=identity.tenant_id,
            subject=member["user_id"],
        )
    admin.members.forget(identity.brand_id, member["user_id"])
    return {**member_out(member), "role": role}


async def remove_member(admin: Admin, identity: Identity, member_id: uuid.UUID) -> None:
    _require(identity, Permission.MEMBERS_MANAGE)
    async with admin.unit_of_work(brand_id=identity.brand_id) as uow:
        member = await members_repo.get_member(uow.conn, identity.brand_id, member_id)
        if member is None:
            raise _no_member()
        if not may_grant(identity.role, member["role"]):
            raise Forbidden(title="Forbidden", detail=f"a {identity.role} cannot remove an {member['role']}")
        if member["role"] == "owner" and await members_repo.count_owners(uow.conn, identity.brand_id) == 1:
            raise Conflict(title="Last owner", detail="a brand keeps at least one owner")
        await members_repo.delete_member(uow.conn, identity.brand_id, member_id)
        await uow.emit(
            MemberRemoved(user_id=member["user_id"], member_id=member_id),
            brand_id=identity.brand_id,
            tenant_id=identity.tenant_id,
            subject=member["user_id"],
        )
    admin.members.forget(identity.brand_id, member["user_id"])


def brand_out(row: Row, role: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "brand_id": row["brand_id"],
        "tenant_id": row["tenant_id"],
        "name": row["name"],
        "time_zone": row["time_zone"],
        "status": row["status"],
        "created_at": row["created_at"],
        "archived_at": row["archived_at"],
    }
    if role:
        out["role"] = role
    return out


def member_out(row: Row) -> dict[str, Any]:
    return {
        "member_id": row["member_id"],
        "user_id": row["user_id"],
        "email": row["email"],
        "role": row["role"],
        "created_at": row["created_at"],
    }
