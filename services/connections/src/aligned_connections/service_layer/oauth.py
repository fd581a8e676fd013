"""Connecting an account: OAuth 2 start and callback (signed single-use state, PKCE S256), and
the app-password flow of platforms without a redirect (Bluesky)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import SecretStr

from aligned_common.events.connections import Connected, ConnectionRestored
from aligned_common.identity import Identity
from aligned_common.problems import Problem
from aligned_connections.adapters import connections_repo as repo
from aligned_connections.adapters.oauth_state import (
    BadState,
    StateClaims,
    new_nonce,
    sign_state,
    verify_state,
)
from aligned_connections.adapters.pkce import challenge_of, new_verifier
from aligned_connections.adapters.platforms import (
    AppPassword,
    AuthFailure,
    AuthorizationCode,
    AuthorizationGrant,
    NotSupported,
    PlatformAdapter,
    PlatformError,
    Rejected,
    Retryable,
    TokenSet,
)
from aligned_connections.adapters.vault import ACCESS, REFRESH, verifier_context
from aligned_connections.domain.connection import Connection, Status
from aligned_connections.runtime import Runtime

DEFAULT_SCOPES = ("read", "write")


@dataclass(frozen=True)
class AuthorizationStart:
    authorization_url: str
    state: str
    expires_at: datetime


async def start(
    rt: Runtime, identity: Identity, adapter: PlatformAdapter, redirect_uri: str, scopes: list[str] | None
) -> AuthorizationStart:
    nonce = new_nonce()
    expires_at = time.time() + rt.settings.oauth_state_ttl_s
    claims = StateClaims(nonce, identity.brand_id, identity.user_id, adapter.platform, expires_at)
    state = sign_state(claims, rt.state_secret)
    verifier = new_verifier()
    try:
        url = await adapter.authorize_url(
            state, challenge_of(verifier), redirect_uri, list(scopes or DEFAULT_SCOPES)
        )
    except NotSupported as error:
        raise Problem(409, "This platform connects without a redirect", detail=str(error)) from None
    expires = datetime.fromtimestamp(expires_at, UTC)
    async with rt.uow(identity.brand_id) as uow:
        await uow.conn.execute(
            """INSERT INTO oauth_states (nonce, brand_id, tenant_id, user_id, platform, redirect_uri, code_verifier, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            nonce,
            identity.brand_id,
            identity.tenant_id,
            identity.user_id,
            adapter.platform,
            redirect_uri,
            rt.vault.cipher.encrypt(verifier, verifier_context(nonce)),
            expires,
        )
        # Old, never-finished authorizations of this brand are of no use to anyone.
        await uow.conn.execute(
            "DELETE FROM oauth_states WHERE brand_id = $1 AND expires_at < now() - interval '1 day'",
            identity.brand_id,
        )
    return AuthorizationStart(url, state, expires)


async def callback(
    rt: Runtime, identity: Identity, adapter: PlatformAdapter, code: str, state: str
) -> tuple[Connection, bool]:
    """Exchange the code and store the connection. Returns it and whether it is new."""
    claims = _check_state(rt, identity, adapter.platform, state)
    redirect_uri, verifier = await _consume_state(rt, identity, claims)
    grant = AuthorizationCode(code=code, code_verifier=verifier, redirect_uri=redirect_uri)
    return await connect(rt, identity, adapter, grant)


async def connect_with_app_password(
    rt: Runtime, identity: Identity, adapter: PlatformAdapter, identifier: str, password: str
) -> tuple[Connection, bool]:
    return await connect(
        rt, identity, adapter, AppPassword(identifier=identifier, password=SecretStr(password))
    )


def _check_state(rt: Runtime, identity: Identity, platform: str, state: str) -> StateClaims:
    try:
        claims = verify_state(state, rt.state_secret)
    except BadState as error:
        raise Problem(400, "Invalid OAuth state", detail=str(error)) from None
    if (
        claims.brand_id != identity.brand_id
        or claims.user_id != identity.user_id
        or claims.platform != platform
    ):
        raise Problem(
            400, "Invalid OAuth state", detail="the state was issued to another brand, user or platform"
        )
    return claims


async def _consume_state(rt: Runtime, identity: Identity, claims: StateClaims) -> tuple[str, str]:
    # Consumed in its own transaction, before the exchange: a replay is refused even if the
    # first exchange then fails (the platform's code is single use anyway).
    async with rt.uow(identity.brand_id) as uow:
        row = await uow.conn.fetchrow(
            """UPDATE oauth_states SET used_at = now()
               WHERE nonce = $1 AND brand_id = $2 AND used_at IS NULL AND expires_at > now()
               RETURNING redirect_uri, code_verifier""",
            claims.nonce,
            identity.brand_id,
        )
    if row is None:
        raise Problem(
            400, "Invalid OAuth state", detail="this authorization was already completed or has expired"
        )
    return row["redirect_uri"], rt.vault.cipher.decrypt(row["code_verifier"], verifier_context(claims.nonce))


async def connect(
    rt: Runtime, identity: Identity, adapter: PlatformAdapter, grant: AuthorizationGrant
) -> tuple[Connection, bool]:
    try:
        tokens = await adapter.exchange_code(grant)
        account = await adapter.get_account(tokens.access_token.get_secret_value())
    except (AuthFailure, Rejected) as refused:
        raise Problem(
            400,
            "The platform refused the authorization",
            detail=str(refused),
            platform_message=refused.platform_message,
        ) from None
    except NotSupported as error:
        raise Problem(409, "This platform does not connect this way", detail=str(error)) from None
    except Retryable as failure:
        raise Problem(
            503, "The platform is unavailable", detail=str(failure), retry_after=int(failure.retry_after or 5)
        ) from None
    except PlatformError as failure:
        raise Problem(502, "The platform answered unexpectedly", detail=str(failure)) from None
    return await _store(rt, identity, adapter.platform, account.id, account.name, tokens)


async def _store(
    rt: Runtime, identity: Identity, platform: str, account_id: str, account_name: str, tokens: TokenSet
) -> tuple[Connection, bool]:
    access = tokens.access_token.get_secret_value()
    refresh = tokens.refresh_token.get_secret_value() if tokens.refresh_token else None
    async with rt.uow(identity.brand_id) as uow:
        existing = await repo.find_by_account(uow.conn, identity.brand_id, platform, account_id, lock=True)
        connection_id = existing.id if existing else uuid.uuid4()
        sealed = {
            "access_token_ct": rt.vault.seal(connection_id, ACCESS, access),
            "refresh_token_ct": rt.vault.seal(connection_id, REFRESH, refresh),
            "expires_at": tokens.expires_at,
            "connected_by": identity.user_id,
        }
        scopes = list(tokens.scopes)
        if existing is None:
            await repo.insert(
                uow.conn,
                connection_id=connection_id,
                brand_id=identity.brand_id,
                tenant_id=identity.tenant_id,
                platform=platform,
                account_id=account_id,
                account_name=account_name,
                scopes=scopes,
                **sealed,
            )
            await uow.emit(
                Connected(
                    connection_id=connection_id,
                    platform=platform,
                    account_id=account_id,
                    account_name=account_name,
                ),
                brand_id=identity.brand_id,
                tenant_id=identity.tenant_id,
                subject=str(connection_id),
            )
        else:
            # Reconnecting: new tokens, and the stored refresh token stays if none came.
            await repo.store_reconnect(
                uow.conn, connection_id, account_name=account_name, scopes=scopes, **sealed
            )
            if existing.status is not Status.CONNECTED:
                await uow.emit(
                    ConnectionRestored(connection_id=connection_id, platform=platform, account_id=account_id),
                    brand_id=identity.brand_id,
                    tenant_id=existing.tenant_id,
                    subject=str(connection_id),
                )
        stored = await repo.get(uow.conn, identity.brand_id, connection_id)
    return stored, existing is None
