"""Settings of the webhooks service (env ALIGNED_WEBHOOKS_*)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from aligned_common.settings import ServiceSettings, service_config

# Standard Webhooks' reference schedule: the first try at once, then these waits after each failure.
DEFAULT_RETRY_SCHEDULE_S: list[float] = [0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600]


class Settings(ServiceSettings):
    model_config = service_config("WEBHOOKS")

    service_name: str = "webhooks"
    http_port: int = 8105

    # Retention (aligned_common.retention): inbound webhooks, matched or not, and finished
    # outbound deliveries with their attempts (a brand's delivery log shows this far back).
    inbound_events_retention_s: float = 30 * 86_400
    deliveries_retention_s: float = 30 * 86_400

    # Inbound
    max_body_bytes: int = 256 * 1024
    signature_tolerance_s: float = 300
    # {"sandbox": ["whsec_...", "whsec_..."]}: several secrets per provider while one is rotated.
    provider_secrets: dict[str, list[SecretStr]] = Field(default_factory=dict)
    sandbox_secret: SecretStr | None = None  # shorthand for provider_secrets["sandbox"]
    # Meta's providers (facebook, instagram, threads): their secrets above are the app secrets;
    # this is the verify token entered in the app's Webhooks settings, for the subscription GET.
    provider_verify_tokens: dict[str, SecretStr] = Field(default_factory=dict)

    # Outbound secrets at rest: base64 of 32 bytes, optionally "key-id:base64". Old keys, comma
    # separated, still open secrets sealed before a key rotation.
    encryption_key: SecretStr | None = None
    encryption_old_keys: SecretStr | None = None
    secret_rotation_overlap_s: float = 24 * 3600

    # Outbound delivery
    delivery_timeout_s: float = 10.0
    delivery_concurrency: int = 64  # requests in flight over all endpoints
    delivery_per_endpoint: int = 4  # requests in flight to one endpoint: a slow one cannot take every slot
    delivery_poll_interval_s: float = 1.0
    delivery_lease_s: float = 120.0  # a claimed delivery is re-tried after this if its worker died
    retry_schedule_s: list[float] = Field(default_factory=lambda: list(DEFAULT_RETRY_SCHEDULE_S))
    retry_scale: float = 1.0  # multiplies the schedule (tests use a small value)
    retry_jitter: float = 0.2  # +- this fraction of each wait
    max_retry_after_s: float = 24 * 3600
    disable_after_failing_s: float = 5 * 24 * 3600  # an endpoint failing this long is disabled
    response_excerpt_bytes: int = 1024

    # SSRF guard
    allow_loopback_targets: bool = False
    allow_http_targets: bool = False
