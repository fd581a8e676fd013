"""Platform adapters: the only code in Aligned that calls a social platform's API.

One interface (PlatformAdapter), one set of typed errors, one adapter per platform. Adapters are
given an httpx.AsyncClient (bootstrap owns it and its connection pool; tests inject a transport).
"""

from aligned_connections.adapters.platforms.base import AccountPicker, PlatformAdapter
from aligned_connections.adapters.platforms.bluesky import BlueskyAdapter
from aligned_connections.adapters.platforms.errors import (
    AuthFailure,
    NotSupported,
    PlatformError,
    Rejected,
    Retryable,
    UnknownOutcome,
)
from aligned_connections.adapters.platforms.facebook import FacebookAdapter
from aligned_connections.adapters.platforms.instagram import InstagramAdapter
from aligned_connections.adapters.platforms.mastodon import MastodonAdapter
from aligned_connections.adapters.platforms.models import (
    AppPassword,
    AuthorizationCode,
    AuthorizationGrant,
    ConnectableAccount,
    MediaAttachment,
    MetricName,
    MetricPoint,
    PlatformAccount,
    PostState,
    PostStatus,
    PublishedPost,
    PublishRequest,
    ReplyTo,
    TokenSet,
    WebhookEvent,
)
from aligned_connections.adapters.platforms.pinterest import PinterestAdapter
from aligned_connections.adapters.platforms.sandbox import SandboxAdapter
from aligned_connections.adapters.platforms.threads import ThreadsAdapter

__all__ = [
    "AccountPicker",
    "AppPassword",
    "AuthFailure",
    "AuthorizationCode",
    "AuthorizationGrant",
    "BlueskyAdapter",
    "ConnectableAccount",
    "FacebookAdapter",
    "InstagramAdapter",
    "MastodonAdapter",
    "MediaAttachment",
    "MetricName",
    "MetricPoint",
    "NotSupported",
    "PinterestAdapter",
    "PlatformAccount",
    "PlatformAdapter",
    "PlatformError",
    "PostState",
    "PostStatus",
    "PublishRequest",
    "PublishedPost",
    "Rejected",
    "ReplyTo",
    "Retryable",
    "SandboxAdapter",
    "ThreadsAdapter",
    "TokenSet",
    "UnknownOutcome",
    "WebhookEvent",
]
