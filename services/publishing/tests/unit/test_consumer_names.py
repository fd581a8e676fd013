"""The handler names the inbox records with each event id, as deployed (processed_events rows).
A change here makes redelivered events run again: rename the Python functions freely, never these."""

import pytest

from aligned_publishing.entrypoints.consumers import build_router

pytestmark = pytest.mark.unit

DEPLOYED = {
    "on_approved": ["approval.approved"],
    "on_changes_requested": ["approval.changes_requested"],
    "on_connected": ["connections.connected"],
    "on_connection_expired": ["connections.connection_expired"],
    "on_connection_restored": ["connections.connection_restored"],
    "on_connection_revoked": ["connections.connection_revoked"],
    "on_disconnected": ["connections.disconnected"],
    "on_plan_accepted": ["analytics.plan_accepted"],
    "on_policy_changed": ["approval.policy_changed"],
    "on_policy_deleted": ["approval.policy_deleted"],
    "on_post_failed": ["connections.post_failed"],
    "on_post_published": ["connections.post_published"],
    "on_rejected": ["approval.rejected"],
}


def test_handler_names_are_the_deployed_ones():
    assert build_router(None).handler_names() == DEPLOYED
