"""The engagement inbox's platform side for real: a poll of a connected sandbox account reaches
Kafka as connections.engagement_fetched, and engagement.reply_requested puts the reply on the
platform once (a redelivered command, the same idempotency key: no second reply)."""

import uuid

import pytest

from aligned_common.events.engagement import ReplyRequested
from aligned_connections.service_layer.engagement import Poller

pytestmark = pytest.mark.integration


async def test_a_polled_review_is_announced_and_its_reply_is_made_once(service, sandbox, tools, events):
    connection = await tools.connect(service, account=f"eng-{uuid.uuid4().hex[:6]}")
    made = await sandbox.http.post(
        f"/_control/accounts/{connection['account_id']}/reviews",
        json={"rating": 2, "text": "Slow", "webhook": False},
    )
    review = made.json()
    async with tools.reader(service.bootstrap, tools.topic) as reader:
        assert await Poller(service.deps).poll_all() >= 1  # this test's account at least
        records = await reader.read_until(
            lambda rs: tools.envelopes_of(rs, {service.brand_id}, "connections.engagement_fetched"),
            timeout_s=30,
            settle_s=0,
        )
        [fetched] = tools.envelopes_of(records, {service.brand_id}, "connections.engagement_fetched")
        assert [i["platform_item_id"] for i in fetched.data["items"]] == [review["platform_item_id"]]

        command = ReplyRequested(
            reply_id=uuid.uuid4(),
            item_id=uuid.uuid4(),
            connection_id=uuid.UUID(connection["id"]),
            platform="sandbox",
            kind="review",
            in_reply_to_id=review["platform_item_id"],
            text="Sorry to hear that",
            idempotency_key=f"engagement-reply-{uuid.uuid4()}",
        )
        first = await events.publish(command, service.brand_id, service.tenant_id)
        await events.send(first)  # the same envelope again: the inbox handles it once
        records = await reader.read_until(
            lambda rs: tools.envelopes_of(rs, {service.brand_id}, "connections.reply_sent"),
            timeout_s=30,
            settle_s=1,
        )
    sent = tools.envelopes_of(records, {service.brand_id}, "connections.reply_sent")
    assert [e.data["reply_id"] for e in sent] == [str(command.reply_id)]
    counts = (await sandbox.http.get("/_control/replies/counts")).json()
    assert counts == {review["platform_item_id"]: 1}
