"""Client settings: e-mail preferences, time zone, unsubscribe tokens."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from aligned_common.db import UnitOfWork
from aligned_common.identity import Identity, require_role
from aligned_common.problems import Problem

from aligned_approval.adapters import client_settings
from aligned_approval.domain import tokens
from aligned_approval.domain.preferences import EmailPreferences

PURPOSE = "unsubscribe"
MANAGERS = ("owner", "admin")


def unsubscribe_token(client: dict[str, Any], secret: bytes) -> str:
    # Derived, not stored: raising token_version revokes every token handed out before.
    return tokens.sign(PURPOSE, {"c": str(client["id"]), "b": str(client["brand_id"]), "v": client["token_version"]}, secret)


def unsubscribe_url(base_url: str, client: dict[str, Any], secret: bytes) -> str:
    return f"{base_url.rstrip('/')}/unsubscribe/{unsubscribe_token(client, secret)}"


def present(client: dict[str, Any], secret: bytes, base_url: str) -> dict[str, Any]:
    return {
        "id": client["id"], "email": client["email"], "time_zone": client["time_zone"],
        "preferences": EmailPreferences.model_validate(client["preferences"]).model_dump(),
        "subscribed": client["unsubscribed_at"] is None, "unsubscribed_at": client["unsubscribed_at"],
        "unsubscribe_url": unsubscribe_url(base_url, client, secret), "updated_at": client["updated_at"],
    }


async def list_clients(pool: asyncpg.Pool, schema: str, identity: Identity) -> list[dict[str, Any]]:
    require_role(identity, *MANAGERS)
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        return await client_settings.list_all(uow.conn, identity.brand_id)


async def get_client(pool: asyncpg.Pool, schema: str, identity: Identity, email: str) -> dict[str, Any]:
    require_role(identity, *MANAGERS)
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        client = await client_settings.by_email(uow.conn, identity.brand_id, email)
    if client is None:
        raise Problem(404, "Client settings not found", detail=f"no settings for {email} in this brand")
    return client


async def put_client(pool: asyncpg.Pool, schema: str, identity: Identity, email: str, *,
                     preferences: dict[str, bool] | None, time_zone: str | None, subscribed: bool | None) -> dict[str, Any]:
    require_role(identity, *MANAGERS)
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        merged = None
        if preferences is not None:
            current = await client_settings.by_email(uow.conn, identity.brand_id, email)
            stored = current["preferences"] if current else {}
            merged = EmailPreferences.model_validate({**stored, **preferences}).model_dump()
        return await client_settings.update(uow.conn, identity.brand_id, email, preferences=merged,
                                            time_zone=time_zone, subscribed=subscribed)


async def revoke_tokens(pool: asyncpg.Pool, schema: str, identity: Identity, email: str) -> None:
    require_role(identity, *MANAGERS)
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        client = await client_settings.by_email(uow.conn, identity.brand_id, email)
        if client is None:
            raise Problem(404, "Client settings not found", detail=f"no settings for {email} in this brand")
        await client_settings.rotate_token(uow.conn, identity.brand_id, client["id"])


async def unsubscribe(pool: asyncpg.Pool, schema: str, token: str, *, secret: bytes) -> dict[str, Any]:
    """No login: the signed token is the authority. Using it twice answers the same."""
    try:
        claims = tokens.verify(PURPOSE, token, secret)
        client_id, brand_id, version = uuid.UUID(claims["c"]), uuid.UUID(claims["b"]), int(claims["v"])
    except (tokens.InvalidToken, KeyError, ValueError, TypeError):
        raise Problem(404, "Unsubscribe link not found", detail="this link is not valid") from None
    async with UnitOfWork(pool, schema, brand_id=brand_id) as uow:
        client = await client_settings.unsubscribe(uow.conn, brand_id, client_id, version)
    if client is None:
        raise Problem(404, "Unsubscribe link not found", detail="this link is not valid any more")
    return {"email": client["email"], "unsubscribed": True, "unsubscribed_at": client["unsubscribed_at"]}
