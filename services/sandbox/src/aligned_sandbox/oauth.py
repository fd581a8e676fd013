"""The authorization server: codes, grants, access and refresh tokens.

A grant is one user's consent to one client. It owns the current refresh token and every access
token issued under it, so revoking the refresh token (or the user deauthorizing the app) ends
them all at once, as on real platforms.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from aligned_sandbox.accounts import Account
from aligned_sandbox.config import SandboxConfig
from aligned_sandbox.errors import SandboxError, invalid_token
from aligned_sandbox.models import TokenResponse
from aligned_sandbox.pkce import verifier_matches


@dataclass
class AuthorizationCode:
    account_id: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    scope: str
    expires_at: float
    grant_id: str | None = None  # set once redeemed; a second redemption revokes this grant


@dataclass
class Grant:
    id: str
    account_id: str
    client_id: str
    scope: str
    refresh_token: str
    revoked: bool = False
    access_tokens: set[str] = field(default_factory=set)


@dataclass
class AccessToken:
    grant_id: str
    account_id: str
    expires_at: float


def invalid_grant(description: str) -> SandboxError:
    return SandboxError(400, "invalid_grant", description)


class OAuthServer:
    def __init__(self, config: Callable[[], SandboxConfig]) -> None:
        self._config = config
        self._codes: dict[str, AuthorizationCode] = {}
        self._grants: dict[str, Grant] = {}
        self._grant_by_refresh_token: dict[str, str] = {}
        self._access_tokens: dict[str, AccessToken] = {}
        self._lock = threading.Lock()

    def issue_code(
        self, account: Account, client_id: str, redirect_uri: str, code_challenge: str, scope: str, now: float
    ) -> str:
        code = "code_" + secrets.token_urlsafe(24)
        expires_at = now + self._config().authorization_code_ttl_s
        with self._lock:
            self._codes[code] = AuthorizationCode(
                account.id, client_id, redirect_uri, code_challenge, scope, expires_at
            )
        return code

    def exchange_code(
        self, code: str, client_id: str, redirect_uri: str, code_verifier: str, now: float
    ) -> TokenResponse:
        with self._lock:
            issued = self._codes.get(code)
            if issued is None or issued.expires_at <= now:
                raise invalid_grant("authorization code is unknown or expired")
            if issued.grant_id is not None:
                # RFC 6749 section 4.1.2: a code used twice may have been stolen; revoke what it gave.
                self._revoke_grant(issued.grant_id)
                raise invalid_grant("authorization code was already used")
            if (issued.client_id, issued.redirect_uri) != (client_id, redirect_uri):
                raise invalid_grant("client_id or redirect_uri differ from the authorization request")
            if not verifier_matches(code_verifier, issued.code_challenge):
                raise invalid_grant("code_verifier does not match the code_challenge")
            grant = Grant(
                "grant_" + secrets.token_hex(8),
                issued.account_id,
                client_id,
                issued.scope,
                refresh_token=_new_refresh_token(),
            )
            issued.grant_id = grant.id
            self._grants[grant.id] = grant
            self._grant_by_refresh_token[grant.refresh_token] = grant.id
            return self._issue_access_token(grant, now, include_refresh_token=True)

    def refresh(self, refresh_token: str, client_id: str, now: float) -> TokenResponse:
        with self._lock:
            grant = self._grants.get(self._grant_by_refresh_token.get(refresh_token, ""))
            if grant is None or grant.revoked:
                raise invalid_grant("refresh token is unknown or revoked")
            if grant.client_id != client_id:
                raise invalid_grant("refresh token was issued to another client")
            rotate = self._config().rotate_refresh_tokens
            if rotate:
                del self._grant_by_refresh_token[grant.refresh_token]
                grant.refresh_token = _new_refresh_token()
                self._grant_by_refresh_token[grant.refresh_token] = grant.id
            return self._issue_access_token(grant, now, include_refresh_token=rotate)

    def revoke(self, token: str) -> None:
        """RFC 7009: revoke an access or a refresh token; an unknown token is not an error."""
        with self._lock:
            if (grant_id := self._grant_by_refresh_token.get(token)) is not None:
                self._revoke_grant(grant_id)
            elif (access := self._access_tokens.pop(token, None)) is not None:
                self._grants[access.grant_id].access_tokens.discard(token)

    def revoke_account(self, account_id: str) -> int:
        """The user removed our app on the platform's side: every grant of theirs ends."""
        with self._lock:
            grant_ids = [
                grant.id
                for grant in self._grants.values()
                if grant.account_id == account_id and not grant.revoked
            ]
            for grant_id in grant_ids:
                self._revoke_grant(grant_id)
            return len(grant_ids)

    def authenticate(self, access_token: str, now: float) -> str:
        """The account id behind a Bearer token, or 401 invalid_token."""
        with self._lock:
            issued = self._access_tokens.get(access_token)
            if issued is None:
                raise invalid_token("the access token is unknown or was revoked")
            if issued.expires_at <= now:
                raise invalid_token("the access token expired")
            return issued.account_id

    def _issue_access_token(self, grant: Grant, now: float, *, include_refresh_token: bool) -> TokenResponse:
        ttl_s = self._config().token_ttl_s
        token = "at_" + secrets.token_urlsafe(24)
        self._access_tokens[token] = AccessToken(grant.id, grant.account_id, expires_at=now + ttl_s)
        grant.access_tokens.add(token)
        return TokenResponse(
            access_token=token,
            expires_in=max(1, round(ttl_s)),
            refresh_token=grant.refresh_token if include_refresh_token else None,
            scope=grant.scope,
        )

    def _revoke_grant(self, grant_id: str) -> None:
        grant = self._grants[grant_id]
        grant.revoked = True
        self._grant_by_refresh_token.pop(grant.refresh_token, None)
        for token in grant.access_tokens:
            self._access_tokens.pop(token, None)
        grant.access_tokens.clear()


def _new_refresh_token() -> str:
    return "rt_" + secrets.token_urlsafe(32)
