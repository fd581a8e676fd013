"""The handler names the inbox records with each event id, as deployed (processed_events rows).
A change here makes redelivered events run again: rename the Python functions freely, never these."""

import pytest

from aligned_analytics.entrypoints.consumers import event_router

pytestmark = pytest.mark.unit

DEPLOYED = {
    "on_brand_created": ["gateway.brand_created"],
    "on_connection_event": ["connections.connected", "connections.connection_expired", "connections.connection_restored", "connections.connection_revoked", "connections.disconnected"],
    "on_job_created": ["publishing.job_created"],
    "on_job_published": ["publishing.job_partially_published", "publishing.job_published"],
    "on_metrics_failed": ["connections.metrics_failed"],
    "on_metrics_fetched": ["connections.metrics_fetched"],
}


def test_handler_names_are_the_deployed_ones():
    assert event_router().handler_names() == DEPLOYED
