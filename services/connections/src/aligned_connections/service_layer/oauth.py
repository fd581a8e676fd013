"""Connecting an account: OAuth 2 start and callback (signed single-use state, PKCE S256), and
the app-password flow of platforms without a redirect (Bluesky)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import SecretStr

from aligned_common.events.connections import Connected, ConnectionRestored
from aligned_common.identity import Identity
from aligned_connections.adapters.oauth_state import (
    BadState,
    StateClaims,
    new_nonce,
    sign_state,
    verify_state,
)
from aligned_connections.adapters.pkce import challenge_of, new_verifier
from aligned_connections.adapters.platforms import (
    AccountPicker,
    AppPassword,
    AuthFailure,
    AuthorizationCode,
    AuthorizationGrant,
    ConnectableAccount,
    NotSupported,
    PlatformAccount,
    PlatformAdapter,
    PlatformError,
    Rejected,
    Retryable,
    TokenSet,
)
from aligned_connections.adapters.vault import verifier_context
from aligned_connections.domain.connection import Connection, Status
from aligned_connections.domain.errors import (
    AuthorizationRefused,
    InvalidOAuthState,
    PlatformAnsweredUnexpectedly,
    PlatformUnavailable,
    WrongConnectFlow,
)
from aligned_connections.service_layer.deps import Deps

DEFAULT_SCOPES = ("read", "write")


def default_scopes_of(adapter: PlatformAdapter) -> tuple[str, ...]:
    """The scopes an adapter needs to publish and read metrics, where it names them (X, LinkedIn,
    YouTube, TikTok); Mastodon's and the sandbox's read/write otherwise. Not on the Protocol, so
    that an adapter without its own scopes needs no change."""
    scopes: tuple[str, ...] = tuple(getattr(adapter, "default_scopes", DEFAULT_SCOPES))
    return scopes


@dataclass(frozen=True)
class AuthorizationStart:
    authorization_url: str
    state: str
    expires_at: datetime


async def start(
    deps: Deps, identity: Identity, adapter: PlatformAdapter, redirect_uri: str, scopes: list[str] | None
) -> AuthorizationStart:
    nonce = new_nonce()
    expires = deps.clock.now() + timedelta(seconds=deps.settings.oauth_state_ttl_s)
    claims = StateClaims(nonce, identity.brand_id, identity.user_id, adapter.platform, expires.timestamp())
    state = sign_state(claims, deps.state_secret)
    verifier = new_verifier()
    try:
        url = await adapter.authorize_url(
            state, challenge_of(verifier), redirect_uri, list(scopes or default_scopes_of(adapter))
        )
    except NotSupported as error:
        raise WrongConnectFlow(str(error), redirect=True) from None
    async with deps.uow(identity.brand_id) as uow:
        await uow.oauth_states.add(
            nonce=nonce,
            brand_id=identity.brand_id,
            tenant_id=identity.tenant_id,
            user_id=identity.user_id,
            platform=adapter.platform,
            redirect_uri=redirect_uri,
            code_verifier_ct=deps.vault.cipher.encrypt(verifier, verifier_context(nonce)),
            expires_at=expires,
        )
        await uow.oauth_states.forget_abandoned(identity.brand_id)
    return AuthorizationStart(url, state, expires)


async def callback(
    deps: Deps, identity: Identity, adapter: PlatformAdapter, code: str, state: str
) -> list[tuple[Connection, bool]]:
    """Exchange the code and store the connections. Returns each and whether it is new."""
    claims = _check_state(deps, identity, adapter.platform, state)
    redirect_uri, verifier = await _consume_state(deps, identity, claims)
    grant = AuthorizationCode(code=code, code_verifier=verifier, redirect_uri=redirect_uri)
    return await connect_accounts(deps, identity, adapter, grant)


async def connect_with_app_password(
    deps: Deps, identity: Identity, adapter: PlatformAdapter, identifier: str, password: str
) -> tuple[Connection, bool]:
    return await connect(
        deps, identity, adapter, AppPassword(identifier=identifier, password=SecretStr(password))
    )


def _check_state(deps: Deps, identity: Identity, platform: str, state: str) -> StateClaims:
    try:
        claims = verify_state(state, deps.state_secret, now=deps.clock.now().timestamp())
    except BadState as error:
        raise InvalidOAuthState(str(error)) from None
    if (
        claims.brand_id != identity.brand_id
        or claims.user_id != identity.user_id
        or claims.platform != platform
    ):
        raise InvalidOAuthState("the state was issued to another brand, user or platform")
    return claims


async def _consume_state(deps: Deps, identity: Identity, claims: StateClaims) -> tuple[str, str]:
    # Consumed in its own transaction, before the exchange: a replay is refused even if the
    # first exchange then fails (the platform's code is single use anyway).
    async with deps.uow(identity.brand_id) as uow:
        consumed = await uow.oauth_states.consume(claims.nonce, identity.brand_id)
    if consumed is None:
        raise InvalidOAuthState("this authorization was already completed or has expired")
    redirect_uri, sealed_verifier = consumed
    return redirect_uri, deps.vault.cipher.decrypt(sealed_verifier, verifier_context(claims.nonce))


async def connect(
    deps: Deps, identity: Identity, adapter: PlatformAdapter, grant: AuthorizationGrant
) -> tuple[Connection, bool]:
    """Exchange the grant and store the connection (the first, where the login gave several;
    the others: connect_accounts)."""
    connected = await connect_accounts(deps, identity, adapter, grant)
    return connected[0]


async def connect_accounts(
    deps: Deps, identity: Identity, adapter: PlatformAdapter, grant: AuthorizationGrant
) -> list[tuple[Connection, bool]]:
    """A connection per publishable account the consent covered (one, except where the
    platform's login owns several, e.g. Facebook Pages), each with whether it is new."""
    try:
        tokens = await adapter.exchange_code(grant)
        if isinstance(adapter, AccountPicker):  # each account with a token of its own (Meta pages)
            accounts = await adapter.publishable_accounts(tokens)
        else:  # the login's own account, and any it may post as with the same token (LinkedIn)
            accounts = [
                ConnectableAccount(account=account, tokens=tokens)
                for account in await publishable_accounts(adapter, tokens.access_token.get_secret_value())
            ]
    except (AuthFailure, Rejected) as refused:
        raise AuthorizationRefused(str(refused), refused.platform_message) from None
    except NotSupported as error:
        raise WrongConnectFlow(str(error), redirect=False) from None
    except Retryable as failure:
        raise PlatformUnavailable(str(failure), retry_after_s=int(failure.retry_after or 5)) from None
    except PlatformError as failure:
        raise PlatformAnsweredUnexpectedly(str(failure)) from None
    if not accounts:
        raise AuthorizationRefused(
            "the consent covered no account this platform lets us publish to",
            "choose at least one page or account you may post to when the platform asks",
        )
    return [
        await _store(deps, identity, adapter.platform, one.account.id, one.account.name, one.tokens)
        for one in accounts
    ]


async def publishable_accounts(adapter: PlatformAdapter, access_token: str) -> list[PlatformAccount]:
    """Every account one login may publish as: the adapter's `list_accounts` where it has one
    (not on the Protocol, so that an adapter of one account needs no change), else its account."""
    list_accounts = getattr(adapter, "list_accounts", None)
    if list_accounts is None:
        return [await adapter.get_account(access_token)]
    accounts: list[PlatformAccount] = await list_accounts(access_token)
    if not accounts:
        raise PlatformError("the login has no account to publish as", platform=adapter.platform)
    return accounts


async def _store(
    deps: Deps, identity: Identity, platform: str, account_id: str, account_name: str, tokens: TokenSet
) -> tuple[Connection, bool]:
    async with deps.uow(identity.brand_id) as uow:
        existing = await uow.connections.find_by_account(identity.brand_id, platform, account_id, lock=True)
        connection_id = existing.id if existing else uuid.uuid4()
        sealed = deps.vault.seal_tokens(connection_id, tokens)
        scopes = list(tokens.scopes)
        if existing is None:
            await uow.connections.insert(
                connection_id=connection_id,
                brand_id=identity.brand_id,
                tenant_id=identity.tenant_id,
                platform=platform,
                account_id=account_id,
                account_name=account_name,
                scopes=scopes,
                tokens=sealed,
                connected_by=identity.user_id,
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
            await uow.connections.store_reconnect(
                connection_id,
                account_name=account_name,
                scopes=scopes,
                tokens=sealed,
                connected_by=identity.user_id,
            )
            if existing.status is not Status.CONNECTED:
                await uow.emit(
                    ConnectionRestored(connection_id=connection_id, platform=platform, account_id=account_id),
                    brand_id=identity.brand_id,
                    tenant_id=existing.tenant_id,
                    subject=str(connection_id),
                )
        stored = await uow.connections.get(identity.brand_id, connection_id)
    assert stored is not None  # written in this very transaction
    return stored, existing is None
