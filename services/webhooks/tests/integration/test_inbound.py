"""POST /webhooks/{provider}: verified, deduplicated, stored, emitted (real Kafka + PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import httpx
import orjson
import pytest
from prometheus_client import REGISTRY

from aligned_common.envelope import EventEnvelope
from aligned_common.events.connections import Connected, Disconnected
from aligned_common.platforms.standard_webhooks import WebhookSecret
from aligned_common.platforms.standard_webhooks import signed_headers as sign_headers
from aligned_testing.kafka_reader import TopicReader
from aligned_testing.polling import eventually
from aligned_testing.webhooks import (
    META_VERIFY_TOKEN,
    SANDBOX_SECRET,
    meta_webhook,
    page_post_removed,
    query,
    sandbox_webhook,
)

pytestmark = pytest.mark.integration

WEBHOOKS_TOPIC = "aligned.webhooks.events"


async def connect_account(publish, webhooks, pg_pool, brand, account_id: str) -> uuid.UUID:
    """The connections service announces the account; wait until webhooks has it in its map."""
    connection_id = uuid.uuid4()
    await publish(Connected(connection_id=connection_id, platform="sandbox", account_id=account_id), brand)

    async def mapped() -> bool:
        rows = await query(
            pg_pool, webhooks.ctx.schema, "SELECT 1 FROM provider_accounts WHERE account_id = $1", account_id
        )
        return bool(rows)

    await eventually(mapped, what="the account map")
    return connection_id


async def stored(pg_pool, webhooks, webhook_id: str) -> list:
    return await query(
        pg_pool, webhooks.ctx.schema, "SELECT * FROM webhook_events WHERE provider_event_id = $1", webhook_id
    )


def rejections(reason: str, provider: str = "sandbox") -> float:
    value = REGISTRY.get_sample_value(
        "aligned_webhooks_inbound_rejected_total", {"provider": provider, "reason": reason}
    )
    return value or 0.0


def received_for(records, brand_id) -> list[EventEnvelope]:
    envelopes = [EventEnvelope.from_bytes(r.value) for r in records]
    return [e for e in envelopes if e.brand_id == brand_id and e.type == "webhooks.received"]


async def test_a_signed_webhook_is_stored_raw_and_emitted_in_typed_form(
    webhooks, client, publish, pg_pool, brand, infra
):
    account = f"acct_{uuid.uuid4().hex[:8]}"
    await connect_account(publish, webhooks, pg_pool, brand, account)
    body, headers = sandbox_webhook(
        "post.status_changed",
        {"post_id": "p_1", "account_id": account, "status": "deleted", "url": "https://s/p_1"},
    )

    async with TopicReader(infra.kafka_bootstrap, WEBHOOKS_TOPIC) as reader:
        response = await client.post("/webhooks/sandbox", content=body, headers=headers)
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "accepted"
        records = await reader.read_until(lambda rs: len(received_for(rs, brand.brand_id)) >= 1, timeout_s=30)

    [row] = await stored(pg_pool, webhooks, headers["webhook-id"])
    assert bytes(row["raw_body"]) == body
    assert row["status"] == "emitted" and row["brand_ids"] == [brand.brand_id]
    assert orjson.loads(row["headers"])["webhook-signature"] == headers["webhook-signature"]
    [event] = received_for(records, brand.brand_id)
    assert event.tenant_id == brand.tenant_id
    data = event.payload()
    assert (data.kind, data.account_id, data.remote_post_id, data.post_status, data.post_url) == (
        "post_status_changed",
        account,
        "p_1",
        "deleted",
        "https://s/p_1",
    )
    assert data.provider_event_id == headers["webhook-id"]
    assert str(data.webhook_event_id) == response.json()["id"]


async def test_pushed_metrics_and_deauthorization_are_typed(webhooks, client, publish, pg_pool, brand, infra):
    account = f"acct_{uuid.uuid4().hex[:8]}"
    await connect_account(publish, webhooks, pg_pool, brand, account)
    metrics_body, metrics_headers = sandbox_webhook(
        "metrics.pushed",
        {
            "post_id": "p_9",
            "account_id": account,
            "metrics": {
                "observed_at": "2030-01-01T00:00:00Z",
                "impressions": 120,
                "likes": 7,
                "shares": 1,
                "comments": 2,
            },
        },
    )
    deauth_body, deauth_headers = sandbox_webhook(
        "account.deauthorized", {"account_id": account, "account_name": "x"}
    )

    async with TopicReader(infra.kafka_bootstrap, WEBHOOKS_TOPIC) as reader:
        for body, headers in ((metrics_body, metrics_headers), (deauth_body, deauth_headers)):
            assert (await client.post("/webhooks/sandbox", content=body, headers=headers)).status_code == 202
        records = await reader.read_until(lambda rs: len(received_for(rs, brand.brand_id)) >= 2, timeout_s=30)

    by_kind = {e.payload().kind: e.payload() for e in received_for(records, brand.brand_id)}
    assert {(m.name, m.value, m.remote_id) for m in by_kind["metrics_pushed"].metrics} == {
        ("impressions", 120, "p_9"),
        ("likes", 7, "p_9"),
        ("shares", 1, "p_9"),
        ("comments", 2, "p_9"),
    }
    assert by_kind["account_deauthorized"].account_id == account


def _oversize() -> tuple[bytes, dict[str, str]]:
    return sandbox_webhook(
        "post.status_changed", {"post_id": "p", "account_id": "a", "status": "x" * 300_000}
    )


def _bad_signature() -> tuple[bytes, dict[str, str]]:
    return sandbox_webhook(
        "post.status_changed",
        {"post_id": "p", "account_id": "a", "status": "live"},
        secret=WebhookSecret.generate(),
    )


def _stale() -> tuple[bytes, dict[str, str]]:
    return sandbox_webhook(
        "post.status_changed",
        {"post_id": "p", "account_id": "a", "status": "live"},
        timestamp=int(time.time()) - 301,
    )


def _tampered() -> tuple[bytes, dict[str, str]]:
    body, headers = sandbox_webhook(
        "post.status_changed", {"post_id": "p", "account_id": "a", "status": "live"}
    )
    return body.replace(b"live", b"gone"), headers


def _missing_signature() -> tuple[bytes, dict[str, str]]:
    body, headers = sandbox_webhook(
        "post.status_changed", {"post_id": "p", "account_id": "a", "status": "live"}
    )
    del headers["webhook-signature"]
    return body, headers


def _signed_garbage() -> tuple[bytes, dict[str, str]]:
    body = b'{"type": "post.status_changed", "data": {"post_id": 5}}'
    return body, sign_headers(SANDBOX_SECRET, f"msg_{uuid.uuid4().hex}", body)


@pytest.mark.parametrize(
    ("case", "provider", "status", "reason"),
    [
        (_bad_signature, "sandbox", 401, "bad_signature"),
        (_tampered, "sandbox", 401, "bad_signature"),
        (_stale, "sandbox", 401, "stale_timestamp"),
        (_missing_signature, "sandbox", 400, "malformed"),
        (_signed_garbage, "sandbox", 400, "malformed"),
        (_oversize, "sandbox", 413, "oversize"),
        (_bad_signature, "myspace", 404, "unknown_provider"),
    ],
    ids=[
        "bad-signature",
        "tampered-body",
        "stale-timestamp",
        "missing-header",
        "signed-garbage",
        "oversize",
        "unknown-provider",
    ],
)
async def test_every_rejection_stores_nothing_and_is_counted(
    webhooks, client, pg_pool, case, provider, status, reason
):
    body, headers = case()
    label = provider if status != 404 else "unknown"
    before = rejections(reason, label)
    events_before = (await query(pg_pool, webhooks.ctx.schema, "SELECT count(*) AS n FROM webhook_events"))[
        0
    ]["n"]
    outbox_before = (await query(pg_pool, webhooks.ctx.schema, "SELECT count(*) AS n FROM outbox"))[0]["n"]

    response = await client.post(f"/webhooks/{provider}", content=body, headers=headers)

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["reason"] == reason
    assert rejections(reason, label) == before + 1
    assert await stored(pg_pool, webhooks, headers.get("webhook-id", "-")) == []
    assert (await query(pg_pool, webhooks.ctx.schema, "SELECT count(*) AS n FROM webhook_events"))[0][
        "n"
    ] == events_before
    assert (await query(pg_pool, webhooks.ctx.schema, "SELECT count(*) AS n FROM outbox"))[0][
        "n"
    ] == outbox_before


async def test_freshness_is_judged_by_the_services_clock(client, clock):
    body, headers = sandbox_webhook(
        "post.status_changed", {"post_id": "p", "account_id": "a", "status": "live"}
    )
    clock.advance(timedelta(minutes=10))  # signed just now by the wall clock: 10 min old by the service's

    response = await client.post("/webhooks/sandbox", content=body, headers=headers)

    assert response.status_code == 401 and response.json()["reason"] == "stale_timestamp"


async def test_an_oversize_body_is_refused_from_its_declared_length(webhooks):
    """The length header alone decides: the answer comes before the body is sent."""
    body, headers = _oversize()
    port = int(webhooks.base_url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = "".join(f"{k}: {v}\r\n" for k, v in {**headers, "content-length": str(len(body))}.items())
        writer.write(f"POST /webhooks/sandbox HTTP/1.1\r\nhost: test\r\n{head}\r\n".encode() + body[:1024])
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    finally:
        writer.close()
    assert status_line.split()[1] == b"413"


async def test_a_thousand_redeliveries_store_and_emit_once(webhooks, publish, pg_pool, brand, infra):
    account = f"acct_{uuid.uuid4().hex[:8]}"
    await connect_account(publish, webhooks, pg_pool, brand, account)
    body, headers = sandbox_webhook(
        "post.status_changed", {"post_id": "p_2", "account_id": account, "status": "live"}
    )
    limit = asyncio.Semaphore(50)

    async with TopicReader(infra.kafka_bootstrap, WEBHOOKS_TOPIC) as reader:
        async with webhooks.client(limits=httpx.Limits(max_connections=50)) as c:

            async def deliver() -> int:
                async with limit:
                    return (await c.post("/webhooks/sandbox", content=body, headers=headers)).status_code

            statuses = await asyncio.gather(*(deliver() for _ in range(1000)))
        assert set(statuses) == {202}
        records = await reader.read_until(
            lambda rs: len(received_for(rs, brand.brand_id)) >= 1, timeout_s=30, settle_s=2
        )

    [row] = await stored(pg_pool, webhooks, headers["webhook-id"])
    assert row["processing_attempts"] == 1000
    outbox = await query(
        pg_pool,
        webhooks.ctx.schema,
        "SELECT 1 FROM outbox WHERE key = $1 AND event_type = 'webhooks.received'",
        str(brand.brand_id),
    )
    assert len(outbox) == 1
    assert len(received_for(records, brand.brand_id)) == 1


async def test_an_unknown_account_is_stored_unmatched_and_not_emitted(webhooks, client, pg_pool):
    account = f"nobody_{uuid.uuid4().hex[:8]}"
    body, headers = sandbox_webhook("account.deauthorized", {"account_id": account})

    response = await client.post("/webhooks/sandbox", content=body, headers=headers)

    assert response.status_code == 202 and response.json()["status"] == "unmatched"
    [row] = await stored(pg_pool, webhooks, headers["webhook-id"])
    assert row["status"] == "unmatched" and row["brand_ids"] == []
    outbox = await query(
        pg_pool,
        webhooks.ctx.schema,
        "SELECT payload FROM outbox WHERE payload::text LIKE '%' || $1 || '%'",
        headers["webhook-id"],
    )
    assert outbox == []


async def test_a_disconnected_account_no_longer_routes_to_the_brand(
    webhooks, client, publish, pg_pool, brand
):
    account = f"acct_{uuid.uuid4().hex[:8]}"
    connection_id = await connect_account(publish, webhooks, pg_pool, brand, account)
    await publish(Disconnected(connection_id=connection_id, platform="sandbox", account_id=account), brand)

    async def forgotten() -> bool:
        return not await query(
            pg_pool, webhooks.ctx.schema, "SELECT 1 FROM provider_accounts WHERE account_id = $1", account
        )

    await eventually(forgotten, what="the account to be forgotten")
    body, headers = sandbox_webhook("account.deauthorized", {"account_id": account})
    response = await client.post("/webhooks/sandbox", content=body, headers=headers)
    assert response.json()["status"] == "unmatched"


async def test_a_meta_webhook_is_verified_by_its_hub_signature_deduplicated_and_emitted(
    webhooks, client, publish, pg_pool, brand, infra
):
    """Facebook Pages: the page's removed post reaches the brand that connected the page; Meta's
    redelivery of the same body is a duplicate; the subscription check echoes the challenge."""
    page_id = f"page-{uuid.uuid4().hex[:8]}"
    await publish(Connected(connection_id=uuid.uuid4(), platform="facebook", account_id=page_id), brand)

    async def mapped() -> bool:
        rows = await query(
            pg_pool, webhooks.ctx.schema, "SELECT 1 FROM provider_accounts WHERE account_id = $1", page_id
        )
        return bool(rows)

    await eventually(mapped, what="the account map")
    body, headers = meta_webhook(page_post_removed(page_id, f"{page_id}_1"))
    async with TopicReader(infra.kafka_bootstrap, WEBHOOKS_TOPIC) as reader:
        first = await client.post("/webhooks/facebook", content=body, headers=headers)
        again = await client.post("/webhooks/facebook", content=body, headers=headers)
        records = await reader.read_until(lambda rs: bool(received_for(rs, brand.brand_id)), timeout_s=30)

    assert first.status_code == 202 and first.json()["status"] == "accepted", first.text
    assert again.status_code == 202 and again.json()["status"] == "duplicate"
    [envelope] = received_for(records, brand.brand_id)
    assert envelope.data["provider"] == "facebook" and envelope.data["kind"] == "post_status_changed"
    assert (envelope.data["remote_post_id"], envelope.data["post_status"]) == (f"{page_id}_1", "deleted")
    [row] = await stored(pg_pool, webhooks, envelope.data["provider_event_id"])
    assert bytes(row["raw_body"]) == body

    tampered = await client.post("/webhooks/facebook", content=body + b" ", headers=headers)
    assert tampered.status_code == 401 and tampered.json()["reason"] == "bad_signature"

    challenge = await client.get(
        "/webhooks/facebook",
        params={"hub.mode": "subscribe", "hub.verify_token": META_VERIFY_TOKEN, "hub.challenge": "424242"},
    )
    assert challenge.status_code == 200 and challenge.text == "424242"
    refused = await client.get(
        "/webhooks/facebook",
        params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "424242"},
    )
    assert refused.status_code == 403
