"""Permission matrix, route table and live-event hub rules (no I/O)."""

from __future__ import annotations

import uuid

import pytest

from aligned_common.envelope import new_event
from aligned_common.events.gateway import MemberRemoved
from aligned_common.events.publishing import JobUpdated
from aligned_gateway.domain import routes
from aligned_gateway.domain.permissions import Permission, allows, may_grant, may_see_event
from aligned_gateway.service_layer.live_events import Hub

pytestmark = pytest.mark.unit


def test_route_table_sends_paths_to_their_owner():
    assert routes.match("/v1/jobs/abc/approvals").service == "approval"
    assert routes.match("/v1/jobs/abc/cancel").service == "publishing"
    assert routes.match("/v1/jobs").service == "publishing"
    assert routes.match("/v1/media-quota").service == "publishing"
    assert routes.match("/v1/analytics/summary").service == "analytics"
    assert routes.match("/v1/connections/x/refresh").service == "connections"
    assert routes.match("/webhooks/sandbox").public
    assert (
        routes.match("/unsubscribe/some-token").public
        and routes.match("/unsubscribe/t").service == "approval"
    )
    assert routes.match("/v1/jobsx") is None
    assert routes.match("/v1/unknown") is None


def test_matrix_examples():
    assert allows("editor", Permission.CONTENT_WRITE) and not allows("viewer", Permission.CONTENT_WRITE)
    assert allows("client", Permission.APPROVAL_DECIDE) and not allows("editor", Permission.APPROVAL_DECIDE)
    assert not allows("admin", Permission.BRAND_ARCHIVE)
    assert may_grant("owner", "owner") and not may_grant("admin", "owner")
    assert may_see_event("client", "publishing.job_published") and not may_see_event(
        "client", "gateway.member_added"
    )


def _event(brand, data=None):
    return new_event(
        data or JobUpdated(job_id=uuid.uuid4(), status="scheduled", content="x"),
        brand_id=brand,
        tenant_id=uuid.uuid4(),
        traceparent="",
    )


def test_hub_resumes_after_last_event_id_and_keeps_brands_apart():
    hub = Hub(per_brand=3, retention_s=60)
    brand, other = uuid.uuid4(), uuid.uuid4()
    events = [_event(brand) for _ in range(4)]
    for e in events:
        hub.publish(e)
    hub.publish(_event(other))
    assert hub.publish(events[-1]) is None  # redelivery
    after, found = hub.since(brand, str(events[1].id))
    assert found and [e.id for e in after] == [str(events[2].id), str(events[3].id)]
    # events[0] fell out of the 3-event window: not resumable, the whole window comes back.
    window, found = hub.since(brand, str(events[0].id))
    assert not found and len(window) == 3
    subscriber = hub.subscribe(brand)
    hub.publish(_event(other, MemberRemoved(user_id="u")))
    assert subscriber.queue.empty()
    hub.publish(_event(brand))
    assert subscriber.queue.qsize() == 1


def test_an_empty_brand_header_is_a_bad_brand_not_the_token_s_brand():
    """The document says X-Brand-Id is a UUID when sent: only an absent header means "the token's brand"."""
    from aligned_gateway.domain.errors import DomainError
    from aligned_gateway.entrypoints.errors import problem_of
    from aligned_gateway.service_layer.auth import requested_brand

    assert requested_brand(None) is None
    brand = uuid.uuid4()
    assert requested_brand(str(brand)) == brand
    for bad in ("", " ", "not-a-uuid"):
        with pytest.raises(DomainError) as refused:
            requested_brand(bad)
        assert problem_of(refused.value).status == 400
