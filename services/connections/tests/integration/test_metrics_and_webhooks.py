"""analytics.sync_requested -> metrics from the platform; a platform deauthorization revokes."""

import uuid

import pytest

from aligned_common.envelope import EventEnvelope
from aligned_common.events.analytics import SyncRequested
from aligned_common.events.publishing import AttemptRequested
from aligned_common.events.webhooks import Received

pytestmark = pytest.mark.integration


def answers_to(sync, records, event_type):
    """The envelopes of `event_type` that answer this sync request (matched by sync_id)."""
    envelopes = [EventEnvelope.from_bytes(r.value) for r in records]
    return [e for e in envelopes if e.type == event_type and e.data.get("sync_id") == str(sync.sync_id)]


async def test_a_sync_request_is_answered_with_the_posts_metrics(service, sandbox, tools, events):
    connection = await tools.connect(service)
    key = f"job-{uuid.uuid4()}:sandbox"
    publish = AttemptRequested(
        job_id=uuid.uuid4(),
        target_id=uuid.uuid4(),
        platform="sandbox",
        connection_id=uuid.UUID(connection["id"]),
        idempotency_key=key,
        attempt=1,
        text="metrics please",
    )
    sync = SyncRequested(sync_id=uuid.uuid4(), connection_id=uuid.UUID(connection["id"]), platform="sandbox")
    async with tools.reader(service.bootstrap, tools.topic) as reader:
        await events.publish(publish, service.brand_id, service.tenant_id)
        records = await reader.read_until(
            lambda rs: tools.envelopes_of(rs, {service.brand_id}, "connections.post_published"),
            timeout_s=30,
            settle_s=0,
        )
        [published] = tools.envelopes_of(records, {service.brand_id}, "connections.post_published")
        await sandbox.advance_clock(3600)  # metrics grow with the post's age
        await events.publish(sync, service.brand_id, service.tenant_id)
        records = await reader.read_until(
            lambda rs: answers_to(sync, rs, "connections.metrics_fetched"), timeout_s=30, settle_s=0.2
        )
    # Only the answer to this sync: another live service (e.g. analytics' scheduler) may sync the account too.
    [fetched] = answers_to(sync, records, "connections.metrics_fetched")
    names = {p["name"] for p in fetched.data["points"] if p["remote_id"] == published.data["remote_id"]}
    assert {"impressions", "likes", "shares", "comments"} <= names


async def test_a_sync_for_an_expired_connection_fails_with_the_reason(service, tools, events):
    connection = await tools.connect(service)
    async with service.uow(service.brand_id) as uow:
        await uow.conn.execute(
            "UPDATE platform_connections SET status = 'expired' WHERE id = $1", uuid.UUID(connection["id"])
        )
    sync = SyncRequested(
        sync_id=uuid.uuid4(),
        connection_id=uuid.UUID(connection["id"]),
        platform="sandbox",
        remote_ids=["post_x"],
    )
    async with tools.reader(service.bootstrap, tools.topic) as reader:
        await events.publish(sync, service.brand_id, service.tenant_id)
        records = await reader.read_until(
            lambda rs: answers_to(sync, rs, "connections.metrics_failed"), timeout_s=30, settle_s=0.2
        )
    found = answers_to(sync, records, "connections.metrics_failed")
    assert len(found) == 1, [(e.id, e.data) for e in found]
    assert found[0].data["reason"] == "connection_expired"


async def test_a_platform_deauthorization_revokes_the_connection(service, tools, events):
    connection = await tools.connect(service)
    webhook = Received(
        webhook_event_id=uuid.uuid4(),
        provider="sandbox",
        provider_event_id="msg_1",
        kind="account_deauthorized",
        account_id=connection["account_id"],
    )
    async with tools.reader(service.bootstrap, tools.topic) as reader:
        await events.publish(webhook, service.brand_id, service.tenant_id)
        records = await reader.read_until(
            lambda rs: tools.envelopes_of(rs, {service.brand_id}, "connections.connection_revoked"),
            timeout_s=30,
            settle_s=0.2,
        )
    [revoked] = tools.envelopes_of(records, {service.brand_id}, "connections.connection_revoked")
    assert revoked.data["connection_id"] == connection["id"]
    async with service.client() as api:
        now = await api.get(f"/v1/connections/{connection['id']}", headers=service.headers())
    assert now.json()["status"] == "revoked"
