"""Settings of the publishing service (ALIGNED_PUBLISHING_*)."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from aligned_common.settings import ServiceSettings, service_config


def _s3(name: str) -> AliasChoices:
    """ALIGNED_PUBLISHING_S3_<NAME>, falling back to the platform-wide ALIGNED_S3_<NAME>."""
    return AliasChoices(f"s3_{name}", f"ALIGNED_PUBLISHING_S3_{name.upper()}", f"ALIGNED_S3_{name.upper()}")


class Settings(ServiceSettings):
    model_config = service_config("PUBLISHING")

    service_name: str = "publishing"
    http_port: int = 8101

    # Dispatcher
    dispatch_interval_s: float = 1.0
    dispatch_batch_size: int = 1000
    # A target requested this long ago with no answer from connections is re-requested with
    # the same idempotency key (connections dedupes, so this is a re-check, never a second post).
    publishing_timeout_s: float = 300.0
    retry_base_s: float = 30.0
    retry_cap_s: float = 3600.0
    default_max_retries: int = 3
    # A held target whose due time is further in the past than this when its connection is
    # restored is reported as missed instead of being posted late.
    hold_grace_s: float = 3600.0

    # Soft delete
    restore_window_days: int = 30
    purge_interval_s: float = 3600.0

    # Media rows (sha256, size, quota) are here in PostgreSQL, the bytes in an S3-compatible
    # object store (ADR 0007). Locally deploy/local/s3proxy.sh; in Kubernetes a Secret.
    s3_endpoint_url: str | None = Field(
        default="http://127.0.0.1:19900", validation_alias=_s3("endpoint_url")
    )
    # Where presigned URLs point (connections and URL-fetching platforms read them), when that is
    # not the endpoint this service uses (e.g. an in-cluster endpoint vs the public one).
    s3_public_endpoint_url: str | None = Field(default=None, validation_alias=_s3("public_endpoint_url"))
    s3_bucket: str = Field(default="aligned-media", validation_alias=_s3("bucket"))
    s3_region: str = Field(default="us-east-1", validation_alias=_s3("region"))
    s3_access_key_id: str | None = Field(default=None, validation_alias=_s3("access_key_id"))
    s3_secret_access_key: str | None = Field(default=None, validation_alias=_s3("secret_access_key"))
    # Lifetime of the presigned GET URLs put in attempt_requested: longer than the publishing
    # timeout, after which an unanswered attempt is re-requested with fresh URLs.
    media_url_ttl_s: int = 3600
    # A presigned upload (POST /v1/media/uploads) must be PUT and completed within this time;
    # after it, its staging object and row are purged.
    upload_url_ttl_s: int = 3600
    # Presigned uploads above this size are multipart (one presigned URL per part of
    # upload_part_bytes, at least S3's 5 MiB); a client may also ask for one.
    multipart_above_bytes: int = 64 * 1024**2
    upload_part_bytes: int = 16 * 1024**2
    # A deleted asset is hidden and its quota freed at once; its object and row are purged this
    # long after (by the purge loop).
    media_purge_after_s: float = 3600.0
    default_quota_bytes: int = 5 * 1024**3
    max_upload_bytes: int = 512 * 1024**2

    # CSV import (POST /v1/imports): the largest file and the most rows it takes, and how many
    # rows one transaction writes (a file is imported chunk by chunk).
    import_max_bytes: int = 8 * 1024**2
    import_max_rows: int = 10_000
    import_chunk_rows: int = 1000

    # RSS/Atom feeds (ADR 0028): how often a subscription may be polled, the loop's tick and
    # batch, each fetch's bounds, the backoff of a failing feed, and the SSRF guard's policy
    # (loopback and plain http only when a local run or a test says so: never by default).
    feed_poll_tick_s: float = 5.0
    feed_poll_batch: int = 20
    feed_poll_concurrency: int = 8
    feed_min_interval_s: int = 300
    feed_default_interval_s: int = 900
    feed_max_bytes: int = 2 * 1024**2
    # The newest entries a poll looks at (feeds list the newest first): a feed of ten thousand
    # items is not ten thousand statements in one transaction; new ones are at the top anyway.
    feed_max_entries: int = 100
    feed_timeout_s: float = 20.0
    feed_backoff_base_s: float = 60.0
    feed_backoff_cap_s: float = 3600.0
    feed_allow_loopback_targets: bool = False
    feed_allow_http_targets: bool = False
