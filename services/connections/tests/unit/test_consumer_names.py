"""The handler names the inbox records with each event id, as deployed (processed_events rows).
A change here makes redelivered events run again: rename the Python functions freely, never these."""

import pytest

from aligned_connections.entrypoints.consumers import build_event_router

pytestmark = pytest.mark.unit

DEPLOYED = {
    "on_attempt_requested": ["publishing.attempt_requested"],
    "on_sync_requested": ["analytics.sync_requested"],
    "on_webhook_received": ["webhooks.received"],
}


def test_handler_names_are_the_deployed_ones():
    assert build_event_router(None).handler_names() == DEPLOYED
