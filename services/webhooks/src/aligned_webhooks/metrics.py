"""Prometheus metrics of the webhooks service (exposed at /metrics with the common ones)."""

from prometheus_client import Counter, Histogram

INBOUND_ACCEPTED = Counter(
    "aligned_webhooks_inbound_total", "Inbound webhooks answered 2xx, by outcome", ["provider", "outcome"]
)
# The provider label of a rejection is "unknown" for names we do not serve, so that a caller
# cannot create label values (and memory) at will.
INBOUND_REJECTED = Counter(
    "aligned_webhooks_inbound_rejected_total", "Inbound webhooks refused, by reason", ["provider", "reason"]
)
DELIVERY_ATTEMPTS = Counter(
    "aligned_webhooks_delivery_attempts_total", "Outbound delivery tries, by outcome", ["outcome"]
)
DELIVERY_SECONDS = Histogram("aligned_webhooks_delivery_seconds", "Outbound delivery request duration")
ENDPOINTS_DISABLED = Counter(
    "aligned_webhooks_endpoints_disabled_total", "Endpoints disabled, by reason", ["reason"]
)
