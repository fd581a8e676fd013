"""Settings of the approval service (ALIGNED_APPROVAL_*)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr

from aligned_common.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("APPROVAL")

    service_name: str = "approval"
    http_port: int = 8102

    # Review links and unsubscribe tokens are HMAC-signed with this (ALIGNED_APPROVAL_LINK_SECRET).
    # No default: a service without it refuses to start.
    link_secret: SecretStr | None = None
    review_link_ttl_hours: float = 72.0
    # Where every link the service sends points (review, unsubscribe, approval): the gateway's
    # public address, configured once for the platform as ALIGNED_PUBLIC_BASE_URL; the older
    # ALIGNED_APPROVAL_PUBLIC_BASE_URL is still read when the platform-wide one is absent.
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        validation_alias=AliasChoices(
            "public_base_url", "ALIGNED_PUBLIC_BASE_URL", "ALIGNED_APPROVAL_PUBLIC_BASE_URL"
        ),
    )

    # Escalation timer. `hour_s` is how long an "hour" of a rule lasts: 3600 in production,
    # a fraction of a second in tests, so thresholds are written in hours everywhere.
    escalation_interval_s: float = 30.0
    escalation_hour_s: float = 3600.0

    # Mail: an outbox-like notifications table drained by a sender loop.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_s: float = 10.0
    mail_from: str = "Aligned <no-reply@aligned.local>"
    mail_interval_s: float = 2.0
    mail_batch_size: int = 20
    mail_max_attempts: int = 8
    mail_retry_base_s: float = 5.0
    mail_retry_max_s: float = 900.0

    # Digests go out at this local hour of each client's day (and on this weekday, 0 = Monday,
    # for the weekly one); the loop looks every digest_interval_s.
    digest_hour: int = Field(default=8, ge=0, le=23)
    digest_weekday: int = Field(default=0, ge=0, le=6)
    digest_interval_s: float = 60.0

    # Audit partitions are created this many months ahead of the current one.
    audit_months_ahead: int = 2
    audit_maintenance_interval_s: float = 6 * 3600.0

    def link_secret_bytes(self) -> bytes:
        if self.link_secret is None or not self.link_secret.get_secret_value():
            raise RuntimeError("ALIGNED_APPROVAL_LINK_SECRET is not set")
        return self.link_secret.get_secret_value().encode()
