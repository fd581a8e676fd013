"""The handler names each service's inbox records with every event id (processed_events rows),
as deployed. A change here makes events redelivered afterwards run again: rename the Python
functions freely, never these (`events.on(Model, name=...)`)."""

import pytest

from aligned_analytics import bootstrap as analytics_bootstrap
from aligned_approval import bootstrap as approval_bootstrap
from aligned_approval.entrypoints import consumers as approval
from aligned_common.events.registry import EVENT_TYPES
from aligned_connections.entrypoints import consumers as connections
from aligned_engagement.entrypoints import consumers as engagement
from aligned_publishing.entrypoints import consumers as publishing
from aligned_webhooks.domain.deliverable import DELIVERABLE_MODELS
from aligned_webhooks.entrypoints import consumers as webhooks

pytestmark = pytest.mark.unit

DEPLOYED = {
    "analytics": {
        "on_brand_created": ["gateway.brand_created"],
        "on_connection_event": [
            "connections.connected",
            "connections.connection_expired",
            "connections.connection_restored",
            "connections.connection_revoked",
            "connections.disconnected",
        ],
        "on_job_created": ["publishing.job_created"],
        "on_job_published": ["publishing.job_partially_published", "publishing.job_published"],
        "on_metrics_failed": ["connections.metrics_failed"],
        "on_metrics_fetched": ["connections.metrics_fetched"],
    },
    "approval": {
        "on_brand_archived": ["gateway.brand_archived"],
        "on_brand_created": ["gateway.brand_created"],
        "on_connected": ["connections.connected"],
        "on_connection_expired": ["connections.connection_expired"],
        "on_connection_restored": ["connections.connection_restored"],
        "on_connection_revoked": ["connections.connection_revoked"],
        "on_disconnected": ["connections.disconnected"],
        "on_inbox_sla_breached": ["engagement.sla_breached"],
        "on_job_cancelled": ["publishing.job_cancelled"],
        "on_job_created": ["publishing.job_created"],
        "on_job_updated": ["publishing.job_updated"],
        "on_member_added": ["gateway.member_added"],
        "on_member_removed": ["gateway.member_removed"],
        "on_member_role_changed": ["gateway.member_role_changed"],
        "on_outcome": [
            "publishing.job_failed",
            "publishing.job_partially_published",
            "publishing.job_published",
        ],
    },
    "approval_audit": {
        "append_event": sorted(EVENT_TYPES),
    },
    "connections": {
        "on_attempt_requested": ["publishing.attempt_requested"],
        "on_reply_requested": ["engagement.reply_requested"],
        "on_sync_requested": ["analytics.sync_requested"],
        "on_webhook_received": ["webhooks.received"],
    },
    "engagement": {
        "on_brand_created": ["gateway.brand_created"],
        "on_connection": [
            "connections.connected",
            "connections.connection_expired",
            "connections.connection_restored",
            "connections.connection_revoked",
            "connections.disconnected",
        ],
        "on_engagement_fetched": ["connections.engagement_fetched"],
        "on_reply_outcome": ["connections.reply_failed", "connections.reply_sent"],
        "on_webhook_received": ["webhooks.received"],
    },
    "publishing": {
        "on_brand_kit_published": ["brandkit.version_published"],
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
    },
    "webhooks": {
        "deliver_to_endpoints": sorted(m.event_type() for m in DELIVERABLE_MODELS),
        "on_connected": ["connections.connected"],
        "on_disconnected": ["connections.disconnected"],
    },
}

ROUTERS = {
    "analytics": lambda: analytics_bootstrap.build().event_router,
    "approval": lambda: approval_bootstrap.build().event_router,
    "approval_audit": lambda: approval.audit_router("approval"),
    "connections": lambda: connections.build_event_router(None),
    "engagement": lambda: engagement.build_router(None),
    "publishing": lambda: publishing.build_router(None),
    "webhooks": lambda: webhooks.event_router(),
}


@pytest.mark.parametrize("service", sorted(DEPLOYED))
def test_handler_names_are_the_deployed_ones(service):
    router = ROUTERS[service]()
    assert router.service == service
    assert router.handler_names() == DEPLOYED[service]
