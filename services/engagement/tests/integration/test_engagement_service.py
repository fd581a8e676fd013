"""The engagement service for real: migrated on PostgreSQL, its events through Kafka, its
routes served. One item delivered by both paths (and twice by the poll) is one row; a reply is a
command in the outbox that the outcome settles; another brand's ids are not found (RLS)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer

from aligned_common.envelope import new_event
from aligned_common.events.base import EventData
from aligned_common.events.connections import Connected, EngagementFetched, ReplySent
from aligned_common.events.engagement import PlatformItem
from aligned_common.events.registry import topic_of
from aligned_common.events.webhooks import Received
from aligned_common.identity import Identity, signed_headers
from aligned_engagement.bootstrap import build
from aligned_engagement.config import Settings
from aligned_testing.clock import MovableClock
from aligned_testing.consumer_groups import start_groups_at_end
from aligned_testing.polling import eventually
from aligned_testing.schemas import drop_schema
from aligned_testing.service import running_service

pytestmark = pytest.mark.integration


async def test_one_item_by_two_paths_a_reply_and_its_outcome(infra, topics):
    name = f"t_eng_{uuid.uuid4().hex[:10]}"  # a scratch schema and consumer group
    clock = MovableClock()
    settings = Settings(
        database_url=infra.database_url, kafka_bootstrap=infra.kafka_bootstrap, sla_interval_s=0.2
    )
    definition = build(settings, name=name, clock=clock)
    await start_groups_at_end(infra.kafka_bootstrap, f"aligned-{name}", definition.event_router.topics())
    me = Identity(tenant_id=uuid.uuid4(), brand_id=uuid.uuid4(), user_id="u-1", role="owner")
    other = Identity(tenant_id=uuid.uuid4(), brand_id=uuid.uuid4(), user_id="u-2", role="owner")
    connection_id = uuid.uuid4()
    item = PlatformItem(
        kind="comment",
        platform_item_id=f"c_{uuid.uuid4().hex[:8]}",
        account_id="acct-int",
        remote_post_id="p_1",
        author_name="Ann",
        text="Nice",
        created_at=datetime.now(UTC),
    )
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()

    async def send(data: EventData, brand: Identity = me) -> None:
        event = new_event(
            data, brand_id=brand.brand_id, tenant_id=brand.tenant_id, subject=str(connection_id)
        )
        await producer.send_and_wait(topic_of(event.type), event.to_bytes(), key=str(brand.brand_id).encode())

    try:
        async with (
            running_service(definition) as svc,
            svc.client(headers=signed_headers(me)) as client,
            svc.client(headers=signed_headers(other)) as theirs,
        ):
            await send(Connected(connection_id=connection_id, platform="sandbox", account_id="acct-int"))
            await send(
                Received(
                    webhook_event_id=uuid.uuid4(),
                    provider="sandbox",
                    provider_event_id="msg_1",
                    kind="engagement",
                    account_id="acct-int",
                    item=item,
                )
            )
            fetched = EngagementFetched(connection_id=connection_id, platform="sandbox", items=[item])
            await send(fetched)
            await send(fetched)

            async def delivered_twice():
                items = (await client.get("/v1/engagement/items")).json()["items"]
                return items if items and set(items[0]["sources"]) == {"webhook", "poll"} else None

            (listed,) = await eventually(delivered_twice, timeout_s=60, what="the item from both paths")
            count = await svc.ctx.pool.fetchval(f'SELECT count(*) FROM "{name}".platform_events')
            assert count == 1

            # Another brand sees nothing of it: the ids of this brand are not found there (RLS).
            assert (await theirs.get(f"/v1/engagement/items/{listed['id']}")).status_code == 404
            assert (await theirs.get("/v1/engagement/items")).json()["items"] == []

            answer = await client.post(
                f"/v1/engagement/items/{listed['id']}/replies",
                json={"text": "Thanks!"},
                headers={"Idempotency-Key": "k1"},
            )
            assert answer.status_code == 202, answer.text
            reply = answer.json()
            # The command commits with the reply: one row in the outbox, whatever the relay did since.
            commands = await svc.ctx.pool.fetchval(
                f"""SELECT count(*) FROM "{name}".outbox WHERE event_type = 'engagement.reply_requested'"""
            )
            assert commands == 1
            replay = await client.post(
                f"/v1/engagement/items/{listed['id']}/replies",
                json={"text": "Thanks!"},
                headers={"Idempotency-Key": "k1"},
            )
            assert (replay.status_code, replay.json()["id"]) == (200, reply["id"])
            assert commands == await svc.ctx.pool.fetchval(
                f"""SELECT count(*) FROM "{name}".outbox WHERE event_type = 'engagement.reply_requested'"""
            )

            await send(
                ReplySent(
                    reply_id=uuid.UUID(reply["id"]),
                    connection_id=connection_id,
                    idempotency_key="x",
                    remote_id="c_9",
                )
            )

            async def replied():
                detail = (await client.get(f"/v1/engagement/items/{listed['id']}")).json()
                return detail if detail["state"] == "replied" else None

            detail = await eventually(replied, timeout_s=60, what="the item replied")
            assert [(r["status"], r["remote_id"]) for r in detail["replies"]] == [("sent", "c_9")]

            # What PostgreSQL cannot store is the caller's mistake, named, never a 500.
            for path, body, field in (
                ("/v1/engagement/templates", {"name": "n", "body": "a\x00b"}, "body"),
                ("/v1/engagement/sla", {"first_response_hours": 5e-324}, "first_response_hours"),
            ):
                refused = await (client.put if path.endswith("sla") else client.post)(path, json=body)
                assert refused.status_code == 422, refused.text
                assert field in {e["field"].split(".")[-1] for e in refused.json()["errors"]}, refused.json()

            # SLA: an unanswered item past it is marked (once, with its event); the answered one never.
            late = item.model_copy(update={"platform_item_id": item.platform_item_id + "-late"})
            await send(EngagementFetched(connection_id=connection_id, platform="sandbox", items=[late]))

            async def unanswered():
                items = (await client.get("/v1/engagement/items", params={"state": "open"})).json()["items"]
                return items[0] if items else None

            open_item = await eventually(unanswered, timeout_s=60, what="the unanswered item")
            assert (
                await client.put("/v1/engagement/sla", json={"first_response_hours": 1})
            ).status_code == 200
            clock.advance(timedelta(hours=3))

            async def breached():
                found = (await client.get(f"/v1/engagement/items/{open_item['id']}")).json()
                return found if found["sla_breached_at"] else None

            await eventually(breached, timeout_s=30, what="the SLA breach")
            assert (await client.get(f"/v1/engagement/items/{listed['id']}")).json()[
                "sla_breached_at"
            ] is None
            breaches = await svc.ctx.pool.fetchval(
                f"""SELECT count(*) FROM "{name}".outbox WHERE event_type = 'engagement.sla_breached'"""
            )
            assert breaches == 1
    finally:
        await producer.stop()
        await drop_schema(infra.database_url, name)
