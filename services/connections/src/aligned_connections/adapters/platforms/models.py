"""The values adapters take and give: the same shapes for every platform."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True)


class TokenSet(_Value):
    # SecretStr keeps tokens out of reprs, logs and tracebacks.
    access_token: SecretStr
    # None when the platform issues none (a long-lived token) or, after refresh(), never: the
    # adapter carries the previous refresh token forward when the platform did not replace it.
    refresh_token: SecretStr | None = None
    expires_at: datetime | None = None  # None: the platform did not say; the token may not expire
    scopes: tuple[str, ...] = ()
    account_id: str | None = None  # the platform's account id, when the token answer names it


class AuthorizationCode(_Value):
    """OAuth 2 authorization code grant with PKCE (RFC 7636)."""

    code: str
    code_verifier: str
    redirect_uri: str


class AppPassword(_Value):
    """Bluesky's way in: the user's handle (or DID) and an app password made for us."""

    identifier: str
    password: SecretStr


AuthorizationGrant = AuthorizationCode | AppPassword


class PlatformAccount(_Value):
    id: str
    name: str  # the handle a person would recognise (acct, handle)


class ConnectableAccount(_Value):
    """One publishable account a login gave access to, with the tokens that act as it."""

    account: PlatformAccount
    tokens: TokenSet


class MediaAttachment(_Value):
    """One media item of a post: bytes at hand (`content`), or where to read them as they are
    uploaded (`url`, a presigned GET URL on the object store, with the object's size)."""

    content: bytes = Field(default=b"", repr=False)
    url: str | None = Field(default=None, repr=False)
    size_bytes: int | None = None
    mime_type: str
    alt_text: str = ""


class ReplyTo(_Value):
    """The post a publish answers (a first comment, the next part of a thread), by remote ids."""

    parent_remote_id: str = Field(min_length=1)
    # The thread's first post (Bluesky's reply.root); the parent itself for a direct reply.
    root_remote_id: str = Field(min_length=1)


class PublishRequest(_Value):
    text: str
    media: tuple[MediaAttachment, ...] = ()
    # Stable across every retry of one publish attempt; the platform (or the adapter) uses it so
    # that a repeated request cannot create a second post.
    idempotency_key: str = Field(min_length=1, max_length=255)
    # Per-platform fields (YouTube title/privacy, LinkedIn visibility, TikTok privacy level...),
    # named in each adapter's docstring; an adapter ignores the names it does not know.
    options: dict[str, str] = Field(default_factory=dict)
    # The connection's account id, for a platform where one login posts as several accounts
    # (a LinkedIn member and the pages they administer); None: the token's own account.
    account_id: str | None = None
    reply_to: ReplyTo | None = None  # None: a top-level post


class PublishedPost(_Value):
    remote_id: str
    url: str | None = None
    # Seconds the account's rate limit is spent for, where the platform's answer said so (X's
    # x-rate-limit-remaining: 0): the account's bucket waits them out before its next call.
    rate_limited_for_s: float | None = None


class PostState(StrEnum):
    PUBLISHED = "published"
    DELETED = "deleted"


class PostStatus(_Value):
    remote_id: str
    state: PostState
    url: str | None = None


class MetricName(StrEnum):
    IMPRESSIONS = "impressions"
    LIKES = "likes"
    SHARES = "shares"  # reblogs, reposts
    COMMENTS = "comments"  # replies
    QUOTES = "quotes"
    REACH = "reach"  # distinct accounts that saw it
    SAVES = "saves"  # bookmarks
    VIDEO_VIEWS = "video_views"


class MetricPoint(_Value):
    remote_id: str
    name: MetricName
    value: int = Field(ge=0)
    observed_at: datetime


def metric_points(
    remote_id: str, values: Mapping[MetricName, int | None], observed_at: datetime
) -> list[MetricPoint]:
    """The points of one post for the counts the platform gave: a count it does not give (None)
    gets no point, so it reads as absent, never as zero."""
    return [
        MetricPoint(remote_id=remote_id, name=name, value=value, observed_at=observed_at)
        for name, value in values.items()
        if value is not None
    ]


class WebhookEvent(_Value):
    platform: str
    id: str  # the platform's delivery id: the key to deduplicate redeliveries
    type: str
    occurred_at: datetime | None = None
    data: dict[str, Any] = Field(default_factory=dict)
