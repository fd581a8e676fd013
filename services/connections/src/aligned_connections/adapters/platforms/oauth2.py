"""The client side of OAuth 2 (authorization code + PKCE, refresh, revocation), shared by the
platforms that speak it."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

from pydantic import BaseModel, SecretStr

from aligned_connections.adapters.platforms.errors import NotSupported
from aligned_connections.adapters.platforms.http import PlatformHttp
from aligned_connections.adapters.platforms.models import AuthorizationCode, AuthorizationGrant, TokenSet


@dataclass(frozen=True)
class OAuthEndpoints:
    authorize: str
    token: str
    revoke: str


@dataclass(frozen=True)
class OAuthClientCredentials:
    client_id: str
    client_secret: SecretStr | None = None  # None for a public client, which relies on PKCE alone


@dataclass(frozen=True)
class OAuthDialect:
    """Where a platform's OAuth departs from RFC 6749's defaults."""

    client_id_field: str = "client_id"  # TikTok: client_key
    scope_separator: str = " "  # TikTok: ","
    # Client credentials in an Authorization: Basic header (RFC 6749 2.3.1), as X requires of a
    # confidential client, instead of in the form.
    basic_auth: bool = False
    extra_authorize_params: tuple[tuple[str, str], ...] = ()  # Google: access_type=offline
    # False where the platform's web flow takes no PKCE (TikTok's: its desktop flow hex-encodes
    # the challenge, unlike RFC 7636); the client secret alone then proves the exchange.
    pkce: bool = True


class _TokenAnswer(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: float | None = None
    refresh_token: str | None = None
    scope: str | None = None


def utc_now() -> datetime:
    return datetime.now(UTC)


class OAuth2Client:
    def __init__(
        self,
        http: PlatformHttp,
        endpoints: OAuthEndpoints,
        credentials: OAuthClientCredentials,
        *,
        clock: Callable[[], datetime] = utc_now,
        dialect: OAuthDialect = OAuthDialect(),
    ) -> None:
        self._http = http
        self._endpoints = endpoints
        self._credentials = credentials
        self._clock = clock
        self._dialect = dialect

    def authorize_url(self, state: str, code_challenge: str, redirect_uri: str, scopes: Sequence[str]) -> str:
        params = {
            "response_type": "code",
            self._dialect.client_id_field: self._credentials.client_id,
            "redirect_uri": redirect_uri,
            "scope": self._dialect.scope_separator.join(scopes),
            "state": state,
        }
        if self._dialect.pkce:
            params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        query = urlencode(params | dict(self._dialect.extra_authorize_params))
        return f"{self._endpoints.authorize}?{query}"

    async def exchange_code(self, grant: AuthorizationGrant) -> TokenSet:
        if not isinstance(grant, AuthorizationCode):
            raise NotSupported(
                "this platform connects with OAuth, not an app password", platform=self._http.platform
            )
        form = {
            "grant_type": "authorization_code",
            "code": grant.code,
            "redirect_uri": grant.redirect_uri,
        }
        if self._dialect.pkce:
            form["code_verifier"] = grant.code_verifier
        return await self._token_request(form, previous_refresh_token=None)

    async def refresh(self, refresh_token: str) -> TokenSet:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return await self._token_request(form, previous_refresh_token=refresh_token)

    async def revoke(self, token: str) -> None:
        await self._http.request(
            "POST",
            self._endpoints.revoke,
            data={"token": token, **self._client_fields()},
            headers=self._basic_auth(),
        )

    async def _token_request(self, form: dict[str, str], previous_refresh_token: str | None) -> TokenSet:
        response = await self._http.request(
            "POST",
            self._endpoints.token,
            data=form | self._client_fields(),
            headers={"Accept": "application/json"} | self._basic_auth(),
        )
        answer = self._http.parse(response, _TokenAnswer)
        # RFC 6749 section 6: when the answer has no refresh_token, the old one stays valid.
        # Dropping it here would silently turn a working connection into a dead one at expiry.
        refresh_token = answer.refresh_token or previous_refresh_token
        return TokenSet(
            access_token=SecretStr(answer.access_token),
            refresh_token=SecretStr(refresh_token) if refresh_token else None,
            expires_at=self._clock() + timedelta(seconds=answer.expires_in) if answer.expires_in else None,
            scopes=tuple((answer.scope or "").replace(",", " ").split()),  # TikTok, LinkedIn: commas
        )

    def _client_fields(self) -> dict[str, str]:
        fields = {self._dialect.client_id_field: self._credentials.client_id}
        if self._credentials.client_secret is not None and not self._dialect.basic_auth:
            fields["client_secret"] = self._credentials.client_secret.get_secret_value()
        return fields

    def _basic_auth(self) -> dict[str, str]:
        secret = self._credentials.client_secret
        if not self._dialect.basic_auth or secret is None:
            return {}
        pair = f"{quote(self._credentials.client_id, safe='')}:{quote(secret.get_secret_value(), safe='')}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


class OAuth2Methods:
    """The four OAuth methods of PlatformAdapter for a platform that speaks plain OAuth 2:
    each hands over to the adapter's `_oauth` client."""

    _oauth: OAuth2Client

    async def authorize_url(
        self, state: str, code_challenge: str, redirect_uri: str, scopes: Sequence[str]
    ) -> str:
        return self._oauth.authorize_url(state, code_challenge, redirect_uri, scopes)

    async def exchange_code(self, grant: AuthorizationGrant) -> TokenSet:
        return await self._oauth.exchange_code(grant)

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._oauth.refresh(refresh_token)

    async def revoke(self, token: str) -> None:
        await self._oauth.revoke(token)
