"""Settings of the publishing service (ALIGNED_PUBLISHING_*)."""

from __future__ import annotations

from pathlib import Path

from aligned_common.settings import ServiceSettings, service_config


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

    # Media
    media_dir: Path = Path("var/media")
    default_quota_bytes: int = 5 * 1024**3
    max_upload_bytes: int = 512 * 1024**2
