"""Prometheus metrics shared by every service (exposed at /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

OUTBOX_BACKLOG = Gauge("aligned_outbox_backlog", "Outbox rows not yet published", ["schema"])
OUTBOX_LAG_SECONDS = Gauge(
    "aligned_outbox_lag_seconds", "Age of the oldest unpublished outbox row", ["schema"]
)
OUTBOX_PUBLISHED = Counter("aligned_outbox_published_total", "Outbox rows published to Kafka", ["schema"])
OUTBOX_PUBLISH_ERRORS = Counter("aligned_outbox_publish_errors_total", "Failed relay batches", ["schema"])
CONSUMED = Counter("aligned_events_consumed_total", "Events handled", ["handler", "event_type", "outcome"])
DEAD_LETTERED = Counter("aligned_events_dead_lettered_total", "Messages sent to a DLQ", ["topic", "reason"])
HANDLER_SECONDS = Histogram("aligned_handler_seconds", "Event handler duration", ["handler"])
# Kafka's health is a metric and an alert (deploy/k8s platform/alerts.yaml), never a readiness
# failure: writes keep committing to the outbox through a broker outage.
KAFKA_UP = Gauge("aligned_kafka_up", "1 while the service's Kafka broker answers a ping, else 0", ["schema"])
RETENTION_PURGED = Counter(
    "aligned_retention_purged_total",
    "Rows deleted by retention (aligned_common.retention)",
    ["schema", "table"],
)
