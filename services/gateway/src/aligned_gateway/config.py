"""Gateway settings (ALIGNED_GATEWAY_*). No secret has a default: they come from the environment."""

from __future__ import annotations

from pydantic import Field, model_validator

from aligned_common.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("GATEWAY")

    service_name: str = "gateway"
    http_port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    # The proxies in front of the gateway (the Ingress controller) whose X-Forwarded-For names
    # the client: addresses or CIDR ranges, comma-separated ("*" for any, never in production).
    # Empty: no proxy is trusted and the connection's peer is the client. The client's address
    # is the right-most X-Forwarded-For entry that is not a trusted proxy, so what a client
    # writes into the header itself is never taken (docs/operations.md).
    trusted_proxies: str = ""

    # -- tokens: HS256 with a shared secret, and/or RS256/ES256 keys from a JWKS URL or file
    jwt_secret: str | None = None
    jwks_url: str | None = None
    jwks_file: str | None = None
    jwks_refresh_s: float = 300.0
    jwt_issuer: str = "aligned"
    jwt_audience: str = "aligned-api"
    jwt_leeway_s: int = 30
    # The development token issuer (POST /v1/dev/token). Off unless switched on (make up does).
    dev_tokens_enabled: bool = False
    dev_token_ttl_s: int = 3600

    # -- membership and invites
    membership_cache_ttl_s: float = 5.0
    invite_ttl_s: int = 7 * 24 * 3600

    # -- upstream services (the route table maps public paths to these)
    publishing_url: str = "http://127.0.0.1:8101"
    approval_url: str = "http://127.0.0.1:8102"
    connections_url: str = "http://127.0.0.1:8103"
    analytics_url: str = "http://127.0.0.1:8104"
    webhooks_url: str = "http://127.0.0.1:8105"
    engagement_url: str = "http://127.0.0.1:8106"
    brandkit_url: str = "http://127.0.0.1:8107"
    upstream_timeout_s: float = 10.0
    upstream_connect_timeout_s: float = 2.0
    read_retries: int = 2
    fanout_deadline_s: float = 1.5
    read_cache_ttl_s: float = 10.0

    # -- request bodies: the most a route class takes, counted while the body streams in
    # (a larger one is refused with 413 before authentication, and no service sees it).
    # Media uploads are their own class until media moves to presigned object-store uploads.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    max_media_body_bytes: int = Field(default=25 * 1024 * 1024, ge=1)

    # -- rate limits: token buckets per brand and per user (requests per second, burst)
    rate_limits_enabled: bool = True
    brand_rate_per_s: float = 50.0
    brand_burst: float = 200.0
    user_rate_per_s: float = 10.0
    user_burst: float = 60.0

    # -- CORS
    cors_origins: list[str] = Field(
        default_factory=lambda: ["http://localhost:3000", "http://127.0.0.1:3000"]
    )

    # -- live events
    live_events_enabled: bool = True
    live_buffer_per_brand: int = 1000
    live_retention_s: float = 3600.0
    # Open streams, counted across replicas: a user's and a brand's at most (429 beyond); and
    # how often an open stream re-checks its caller's membership, role and token expiry (ends
    # when gone).
    live_max_streams_per_user: int = Field(default=5, ge=1)
    live_max_streams_per_brand: int = Field(default=200, ge=1)
    live_recheck_s: float = Field(default=2.0, gt=0)
    # An open stream's lease (the row the caps count) lives this long unless its replica renews
    # it (every third of it): how long a dead replica's streams still count.
    live_lease_ttl_s: float = Field(default=30.0, gt=0)

    # -- idempotency records are kept this long
    idempotency_ttl_s: int = 24 * 3600
    # A key reserved this long ago with no response stored was left by a gateway that died
    # mid-request (a live request ends within the upstream timeouts): a retry takes it over.
    idempotency_abandoned_after_s: float = 30.0

    @model_validator(mode="after")
    def _abandoned_only_after_a_request_could_have_ended(self) -> Settings:
        longest_request_s = self.upstream_connect_timeout_s + self.upstream_timeout_s
        if self.idempotency_abandoned_after_s <= longest_request_s:
            raise ValueError(
                f"idempotency_abandoned_after_s must exceed the upstream timeouts ({longest_request_s} s), "
                "or a retry could run beside a request that is still going"
            )
        return self

    def body_limit(self, body_class: str) -> int:
        return self.max_media_body_bytes if body_class == "media" else self.max_body_bytes

    def service_urls(self) -> dict[str, str]:
        return {
            "publishing": self.publishing_url,
            "approval": self.approval_url,
            "connections": self.connections_url,
            "analytics": self.analytics_url,
            "webhooks": self.webhooks_url,
            "engagement": self.engagement_url,
            "brandkit": self.brandkit_url,
        }
