"""The one interface every platform adapter implements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from aligned_connections.adapters.platforms.models import (
    AuthorizationGrant,
    ConnectableAccount,
    MetricPoint,
    PlatformAccount,
    PostStatus,
    PublishedPost,
    PublishRequest,
    TokenSet,
    WebhookEvent,
)


@runtime_checkable
class PlatformAdapter(Protocol):
    """A platform as the connections service sees it. Methods raise the errors of errors.py.

    Adapters hold no tokens: each call is given the one it needs, so that tokens stay in the
    service's encrypted store and an adapter can be shared by every connection.
    """

    platform: str

    async def authorize_url(
        self, state: str, code_challenge: str, redirect_uri: str, scopes: Sequence[str]
    ) -> str:
        """Where to send the user's browser to consent (OAuth 2 with PKCE, S256)."""
        ...

    async def exchange_code(self, grant: AuthorizationGrant) -> TokenSet:
        """Turn the user's consent into tokens: an authorization code, or an app password."""
        ...

    async def refresh(self, refresh_token: str) -> TokenSet:
        """New tokens. If the platform sends no new refresh token, the given one is kept."""
        ...

    async def revoke(self, token: str) -> None: ...

    async def get_account(self, access_token: str) -> PlatformAccount: ...

    async def publish(self, access_token: str, request: PublishRequest) -> PublishedPost:
        """Create the post. A lost answer raises UnknownOutcome: never call again before asking."""
        ...

    async def get_post_status(self, access_token: str, remote_id: str) -> PostStatus | None:
        """The post's state, or None when the platform does not know it (never made, or gone)."""
        ...

    async def find_post_by_marker(self, access_token: str, marker: str) -> PublishedPost | None:
        """The account's most recent post whose text contains `marker`, among its recent posts:
        how an unknown outcome is settled where the post's id cannot be known in advance."""
        ...

    async def fetch_metrics(self, access_token: str, remote_ids: Sequence[str]) -> list[MetricPoint]:
        """Current counts of the given posts; posts the platform no longer has are left out."""
        ...

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Check an inbound webhook's signature (raw body) and parse it."""
        ...


@runtime_checkable
class AccountPicker(Protocol):
    """An adapter whose one login can own several publishable accounts (Facebook Pages,
    Instagram accounts linked to them, Pinterest boards): connecting makes a connection per
    account, each with the tokens that act as it. An adapter without it connects the one
    account get_account names."""

    async def publishable_accounts(self, tokens: TokenSet) -> list[ConnectableAccount]:
        """The accounts the consent covered; [] if it covered none the platform lets us post to."""
        ...
