"""Client settings: e-mail preferences, time zone, unsubscribe tokens."""

from __future__ import annotations

import uuid
from typing import Any

from aligned_approval.domain import tokens
from aligned_approval.domain.errors import Gone, Invalid, NotFound, require_role
from aligned_approval.domain.preferences import EmailPreferences, MailKind
from aligned_approval.service_layer.ports import UnitOfWork, UnitsOfWork
from aligned_common.events.approval import ClientSettingsChanged
from aligned_common.identity import Identity

PURPOSE = "unsubscribe"
MANAGERS = ("owner", "admin")
SCOPES = ("kind", "all")  # what a POST to an unsubscribe link stops: the link's kind of mail, or every mail


def unsubscribe_token(client: dict[str, Any], secret: bytes, kind: MailKind | None = None) -> str:
    """Derived, not stored: raising token_version revokes every token handed out before.
    A mail's link names its kind (`k`), so one click stops that kind of mail only."""
    claims: dict[str, Any] = {
        "c": str(client["id"]),
        "b": str(client["brand_id"]),
        "v": client["token_version"],
    }
    if kind is not None:
        claims["k"] = kind.value
    return tokens.sign(PURPOSE, claims, secret)


def unsubscribe_url(
    base_url: str, client: dict[str, Any], secret: bytes, kind: MailKind | None = None
) -> str:
    return f"{base_url.rstrip('/')}/unsubscribe/{unsubscribe_token(client, secret, kind)}"


def changeable(client: dict[str, Any]) -> dict[str, Any]:
    """What a manager (PUT) or the client (an unsubscribe link) can change: the API shows it, and
    the audit trail keeps it before and after."""
    return {
        "language": client["language"],
        "time_zone": client["time_zone"],
        "preferences": EmailPreferences.model_validate(client["preferences"]).model_dump(),
        "subscribed": client["unsubscribed_at"] is None,
        "unsubscribed_types": list(client["unsubscribed_types"]),
    }


def present(client: dict[str, Any], secret: bytes, base_url: str) -> dict[str, Any]:
    return {
        "id": client["id"],
        "email": client["email"],
        **changeable(client),
        "unsubscribed_at": client["unsubscribed_at"],
        "unsubscribe_url": unsubscribe_url(base_url, client, secret),
        "updated_at": client["updated_at"],
    }


async def list_clients(uows: UnitsOfWork, identity: Identity) -> list[dict[str, Any]]:
    require_role(identity, *MANAGERS)
    async with uows(brand_id=identity.brand_id) as uow:
        return await uow.clients.list_all(identity.brand_id)


async def get_client(uows: UnitsOfWork, identity: Identity, email: str) -> dict[str, Any]:
    require_role(identity, *MANAGERS)
    async with uows(brand_id=identity.brand_id) as uow:
        client = await uow.clients.by_email(identity.brand_id, email)
    if client is None:
        raise NotFound(title="Client settings not found", detail=f"no settings for {email} in this brand")
    return client


async def put_client(
    uows: UnitsOfWork,
    identity: Identity,
    email: str,
    *,
    preferences: dict[str, bool] | None,
    time_zone: str | None,
    subscribed: bool | None,
    unsubscribed_types: list[str] | None = None,
    language: str | None = None,
) -> dict[str, Any]:
    require_role(identity, *MANAGERS)
    async with uows(brand_id=identity.brand_id) as uow:
        current = await uow.clients.by_email(identity.brand_id, email)
        merged = None
        if preferences is not None:
            stored = current["preferences"] if current else {}
            merged = EmailPreferences.model_validate({**stored, **preferences}).model_dump()
        client = await uow.clients.update(
            identity.brand_id,
            email,
            preferences=merged,
            time_zone=time_zone,
            subscribed=subscribed,
            unsubscribed_types=unsubscribed_types,
            language=language,
        )
        await _emit_changed(uow, client, current, changed_by=identity.user_id, tenant_id=identity.tenant_id)
        return client


async def _emit_changed(
    uow: UnitOfWork,
    client: dict[str, Any],
    before: dict[str, Any] | None,
    *,
    changed_by: str,
    tenant_id: uuid.UUID,
) -> None:
    """approval.client_settings_changed in the same transaction (outbox), when anything changed."""
    after_view = changeable(client)
    before_view = changeable(before) if before is not None else None
    if before_view == after_view:
        return  # a repeated PUT or a second click on the same link changes nothing to audit
    await uow.emit(
        ClientSettingsChanged(
            client_id=client["id"],
            email=client["email"],
            changed_by=changed_by,
            before=before_view,
            after=after_view,
        ),
        brand_id=client["brand_id"],
        tenant_id=tenant_id,
        subject=str(client["id"]),
    )


async def mails_of(uows: UnitsOfWork, identity: Identity, email: str, *, limit: int) -> list[dict[str, Any]]:
    require_role(identity, *MANAGERS)
    async with uows(brand_id=identity.brand_id) as uow:
        if await uow.clients.by_email(identity.brand_id, email) is None:
            raise NotFound(title="Client settings not found", detail=f"no settings for {email} in this brand")
        return await uow.notifications.to_address(identity.brand_id, email, limit)


async def revoke_tokens(uows: UnitsOfWork, identity: Identity, email: str) -> None:
    require_role(identity, *MANAGERS)
    async with uows(brand_id=identity.brand_id) as uow:
        client = await uow.clients.by_email(identity.brand_id, email)
        if client is None:
            raise NotFound(title="Client settings not found", detail=f"no settings for {email} in this brand")
        await uow.clients.rotate_token(identity.brand_id, client["id"])


def _link_claims(token: str, secret: bytes) -> tuple[uuid.UUID, uuid.UUID, int, MailKind | None]:
    try:
        claims = tokens.verify(PURPOSE, token, secret)
        kind = MailKind(claims["k"]) if "k" in claims else None
        return uuid.UUID(claims["c"]), uuid.UUID(claims["b"]), int(claims["v"]), kind
    except (tokens.InvalidToken, KeyError, ValueError, TypeError):
        raise NotFound(title="Unsubscribe link not found", detail="this link is not valid") from None


def _usable(client: dict[str, Any] | None, version: int) -> dict[str, Any]:
    if client is None:
        raise NotFound(title="Unsubscribe link not found", detail="this link is not valid")
    if client["token_version"] != version:
        raise Gone(
            title="Unsubscribe link revoked",
            detail="this link was replaced by a newer one; use the link in your latest e-mail",
        )
    return client


def _state(client: dict[str, Any], kind: MailKind | None) -> dict[str, Any]:
    return {
        "email": client["email"],
        "kind": kind.value if kind else None,
        "subscribed": client["unsubscribed_at"] is None,
        "unsubscribed_at": client["unsubscribed_at"],
        "unsubscribed_types": client["unsubscribed_types"],
        "language": client["language"],  # the page's language
    }


async def preview_unsubscribe(uows: UnitsOfWork, token: str, *, secret: bytes) -> dict[str, Any]:
    """What a POST to this link would do. Changes nothing: mail scanners fetch links."""
    client_id, brand_id, version, kind = _link_claims(token, secret)
    async with uows(brand_id=brand_id) as uow:
        client = _usable(await uow.clients.get(brand_id, client_id), version)
    return {
        **_state(client, kind),
        "scopes": ["kind", "all"] if kind else ["all"],
        "default_scope": "kind" if kind else "all",
    }


async def unsubscribe(
    uows: UnitsOfWork, token: str, *, secret: bytes, scope: str | None = None
) -> dict[str, Any]:
    """No login: the signed token is the authority. Using it twice answers the same.
    `scope` "kind" stops the link's kind of mail (the default for a mail's link, and what a
    one-click POST, RFC 8058, does); "all" stops every mail to the address."""
    client_id, brand_id, version, kind = _link_claims(token, secret)
    scope = scope or ("kind" if kind else "all")
    if scope not in SCOPES or (scope == "kind" and kind is None):
        allowed = SCOPES if kind else ("all",)
        raise Invalid(
            title="Invalid request",
            detail="invalid fields: scope",
            errors=[{"field": "scope", "message": f"one of {', '.join(allowed)}"}],
        )
    async with uows(brand_id=brand_id) as uow:
        before = _usable(await uow.clients.get(brand_id, client_id, lock=True), version)
        client = await uow.clients.unsubscribe(
            brand_id, client_id, kind.value if scope == "kind" and kind else None
        )
        assert client is not None  # locked just above
        tenant_id = await uow.members.brand_tenant(brand_id)
        if (
            tenant_id is not None
        ):  # the brand's announcement always comes first; never block a client's unsubscribe on it
            await _emit_changed(
                uow, client, before, changed_by=f"client:{client['email']}", tenant_id=tenant_id
            )
    return {**_state(client, kind), "unsubscribed": True, "scope": scope}
