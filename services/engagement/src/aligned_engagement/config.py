"""Settings of the engagement service (env ALIGNED_ENGAGEMENT_*)."""

from aligned_common.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("ENGAGEMENT")  # reads ALIGNED_ENGAGEMENT_*
    service_name: str = "engagement"
    http_port: int = 8106
    # How often the SLA timer looks for unanswered items, and how long its "hour" is (tests
    # shorten it as approval's escalation timer does: ALIGNED_APPROVAL_ESCALATION_HOUR_S).
    sla_interval_s: float = 30.0
    sla_hour_s: float = 3600.0
    sla_batch_size: int = 200
