"""Settings shared by every service, read from env with a per-service prefix.

A service subclasses ServiceSettings with `model_config = service_config("PUBLISHING")`
so it reads ALIGNED_PUBLISHING_DATABASE_URL, falling back to ALIGNED_DATABASE_URL.
No secret has a default here: they come from the environment or a Kubernetes Secret.
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def service_config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=f"ALIGNED_{prefix.upper()}_", extra="ignore")


class ServiceSettings(BaseSettings):
    model_config = service_config("SERVICE")

    service_name: str = "service"
    database_url: str = Field(
        default="postgresql://aligned:aligned@127.0.0.1:15432/aligned",
        validation_alias=AliasChoices("database_url", "ALIGNED_DATABASE_URL"),
    )
    kafka_bootstrap: str = Field(
        default="127.0.0.1:19092", validation_alias=AliasChoices("kafka_bootstrap", "ALIGNED_KAFKA_BOOTSTRAP")
    )
    # The role migrations run as (owns the schema); unset, the service's own database_url. In
    # every deployment it is another role than database_url's, which owns nothing (ADR 0004).
    migration_database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("migration_database_url", "ALIGNED_MIGRATION_DATABASE_URL"),
    )
    # A read replica (CloudNativePG's -ro service) for read paths that tolerate replication
    # lag, e.g. reports; unset, they read from database_url like everything else.
    read_database_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    pool_min_size: int = 2
    # Consumers run up to consumer_max_in_flight messages at once, each holding a connection only
    # inside its transactions; 16 keeps them from queueing for one (7 services x 2 replicas fit in
    # PostgreSQL's 300).
    pool_max_size: int = 16
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("log_level", "ALIGNED_LOG_LEVEL"))
    # Rows per relay round (see ADR 0003: the round's fixed cost is a few round trips).
    relay_batch_size: int = 5000
    relay_poll_interval_s: float = 1.0
    # How long published outbox rows are kept for operators before the purge loop deletes them.
    outbox_retention_s: float = 86_400
    # The inbox's dedupe rows: kept beyond Kafka's retention of the topics (7 days), so an
    # event redelivered from the oldest offset is still recognised (aligned_common.retention).
    processed_events_retention_s: float = 14 * 86_400
    # Refuse internal identities whose signature is not bound to the request (method, path,
    # service, body; aligned_common.identity). Only the in-process test harness turns it off.
    require_bound_identity: bool = True
    consumer_max_retries: int = 3
    consumer_retry_base_s: float = 0.2
    # Messages each consumer handles at once (ordered per key; docs/architecture.md). Sized for
    # a 2-core machine whose handlers mostly wait on PostgreSQL or a platform.
    consumer_max_in_flight: int = 64

    def __init__(self, **values):
        # Prefix-specific env vars take precedence; the platform-wide ones are the fallback.
        for field in ("database_url", "migration_database_url", "kafka_bootstrap", "log_level"):
            prefixed = f"{self.model_config.get('env_prefix', '')}{field.upper()}"
            if field not in values and prefixed in os.environ:
                values[field] = os.environ[prefixed]
        super().__init__(**values)

    def migration_target(self) -> tuple[str, str | None]:
        """(the DSN migrations run with, the login role to grant when it is another role)."""
        if not self.migration_database_url:
            return self.database_url, None
        login = urlsplit(self.database_url).username
        owner = urlsplit(self.migration_database_url).username
        return self.migration_database_url, (unquote(login) if login and login != owner else None)
