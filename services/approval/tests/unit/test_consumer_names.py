"""The handler names the inbox records with each event id, as deployed (processed_events rows).
A change here makes redelivered events run again: rename the Python functions freely, never these."""

import pytest

from aligned_common.events.registry import EVENT_TYPES
from aligned_approval.entrypoints.consumers import audit_router, workflow_router

pytestmark = pytest.mark.unit

DEPLOYED = {
    "on_brand_archived": ["gateway.brand_archived"],
    "on_brand_created": ["gateway.brand_created"],
    "on_connected": ["connections.connected"],
    "on_connection_expired": ["connections.connection_expired"],
    "on_connection_restored": ["connections.connection_restored"],
    "on_connection_revoked": ["connections.connection_revoked"],
    "on_disconnected": ["connections.disconnected"],
    "on_job_cancelled": ["publishing.job_cancelled"],
    "on_job_created": ["publishing.job_created"],
    "on_job_updated": ["publishing.job_updated"],
    "on_member_added": ["gateway.member_added"],
    "on_member_removed": ["gateway.member_removed"],
    "on_member_role_changed": ["gateway.member_role_changed"],
    "on_outcome": ["publishing.job_failed", "publishing.job_partially_published", "publishing.job_published"],
}

DEPLOYED_AUDIT = {
    "append_event": sorted(EVENT_TYPES),
}


def test_handler_names_are_the_deployed_ones():
    assert workflow_router("approval", "http://aligned.test").handler_names() == DEPLOYED


def test_audit_handler_names_are_the_deployed_ones():
    assert audit_router("approval").handler_names() == DEPLOYED_AUDIT
