"""The handler names the inbox records with each event id, as deployed (processed_events rows).
A change here makes redelivered events run again: rename the Python functions freely, never these."""

import pytest

from aligned_webhooks.domain.deliverable import DELIVERABLE_MODELS
from aligned_webhooks.entrypoints.consumers import event_router

pytestmark = pytest.mark.unit

DEPLOYED = {
    "deliver_to_endpoints": sorted(m.event_type() for m in DELIVERABLE_MODELS),
    "on_connected": ["connections.connected"],
    "on_disconnected": ["connections.disconnected"],
}


def test_handler_names_are_the_deployed_ones():
    assert event_router().handler_names() == DEPLOYED
