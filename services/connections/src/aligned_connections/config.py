"""Settings of the connections service (env ALIGNED_CONNECTIONS_*).

Secrets have no default: the encryption keys and the OAuth state secret come from the
environment (a Kubernetes Secret in production). They are checked when the service starts,
not when it is built, so that `migrate` runs without them.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from aligned_common.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("CONNECTIONS")

    service_name: str = "connections"
    http_port: int = 8103

    # Token encryption: {"k1": "<base64 of 32 bytes>", ...} and the id new ciphertexts use.
    encryption_keys: SecretStr | None = None
    active_key_id: str | None = None
    # HMAC key of the OAuth `state` parameter.
    state_secret: SecretStr | None = None
    oauth_state_ttl_s: float = 600

    # Platforms. The sandbox is on when its URL is set; Mastodon when an instance and client are.
    sandbox_url: str | None = "http://127.0.0.1:18080"
    sandbox_client_id: str = "aligned-connections"
    sandbox_webhook_secrets: list[SecretStr] = Field(default_factory=list)
    mastodon_instance_url: str | None = None
    mastodon_client_id: str | None = None
    mastodon_client_secret: SecretStr | None = None
    bluesky_service_url: str | None = "https://bsky.social"
    # The major platforms are on when their app's client id (and secret) are set; unset, the
    # platform is not offered (connect answers 404), so make up and CI run without them.
    x_client_id: str | None = None
    x_client_secret: SecretStr | None = None  # None: a public client (PKCE alone)
    linkedin_client_id: str | None = None
    linkedin_client_secret: SecretStr | None = None
    # The LinkedIn-Version header (YYYYMM). LinkedIn serves a version for about a year: keep it
    # within that window (its "versioning" page lists the live ones).
    linkedin_api_version: str = "202510"
    # Pages (organizations) need LinkedIn's Community Management API; off: members only.
    linkedin_pages: bool = True
    youtube_client_id: str | None = None
    youtube_client_secret: SecretStr | None = None
    tiktok_client_key: str | None = None
    tiktok_client_secret: SecretStr | None = None
    # Meta: one app (Facebook Login for Business) serves Facebook Pages and Instagram; Threads
    # has an app id and secret of its own. A platform without both is not offered.
    meta_app_id: str | None = None
    meta_app_secret: SecretStr | None = None
    threads_app_id: str | None = None
    threads_app_secret: SecretStr | None = None
    pinterest_app_id: str | None = None
    pinterest_app_secret: SecretStr | None = None
    platform_connect_timeout_s: float = 5.0
    platform_read_timeout_s: float = 20.0

    # Refresh ahead of expiry.
    refresh_interval_s: float = 30.0
    # The engagement poll: every connected account with an inbox API, this often (issue 25).
    engagement_poll_interval_s: float = 300.0
    engagement_poll_batch: int = 1000
    refresh_window_s: float = 900.0  # refresh tokens that expire within this window
    refresh_batch_size: int = 50
    refresh_backoff_base_s: float = 5.0
    refresh_backoff_max_s: float = 600.0
    inline_refresh_margin_s: float = 60.0  # a publish refreshes a token this close to expiry

    # Publishing.
    publish_lease_s: float = 60.0  # how long an in-flight call holds its idempotency key
    rate_limit_capacity: float = 30.0  # burst per account
    rate_limit_refill_per_s: float = 1.0  # sustained calls per second per account
    # Platform calls (publish, status, metrics) in flight at once per platform from one process:
    # protects the platform (and our sockets) when a burst of posts falls due.
    platform_max_in_flight: int = 128
    # Messages the consumer handles at once (the platform-wide default is 64): an attempt spends
    # most of its time waiting for the platform (0.3-3 s) holding no connection, so keeping the
    # CPU busy at ~60 posts/s with platforms answering in 1-2 s takes ~120-250 in flight.
    consumer_max_in_flight: int = 256
    # Three short transactions per attempt (check, claim, outcome), claims of one account
    # queueing on its rate bucket's row lock: more connections than the platform-wide 16.
    pool_max_size: int = 24
    default_retry_after_s: float = 5.0  # when a transient failure names no delay
    media_max_bytes: int = 1_000_000_000  # streamed from the store, never held in memory
    # Connections never delete rows, so an unknown connection id is a caller's mistake and is
    # answered post_failed. Tests that run a scratch copy of the service next to others on the
    # shared topics turn this off, so that they never answer for someone else's events.
    answer_unknown_connections: bool = True
