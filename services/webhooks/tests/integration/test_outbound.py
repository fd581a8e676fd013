"""Outbound deliveries: endpoints API, signing, retries, 410, replay, SSRF guard, fairness."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from fastapi import Request, Response

from aligned_common.envelope import EventEnvelope
from aligned_common.events.publishing import JobFailed, JobPublished, TargetResult
from aligned_common.identity import Identity, signed_headers
from aligned_common.platforms import InvalidSignature, standard_webhooks
from aligned_testing.kafka_reader import TopicReader
from aligned_testing.polling import eventually
from aligned_testing.webhooks import query

pytestmark = pytest.mark.integration


def job_published() -> JobPublished:
    return JobPublished(
        job_id=uuid.uuid4(),
        targets=[
            TargetResult(target_id=uuid.uuid4(), platform="sandbox", status="published", remote_id="p_1")
        ],
    )


async def register(client, brand: Identity, url: str, event_types: list[str] | None = None) -> dict:
    response = await client.post(
        "/v1/webhook-endpoints",
        json={"url": url, "event_types": event_types or []},
        headers=signed_headers(brand),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def deliveries(client, brand: Identity, endpoint_id: str, status: str | None = None) -> list[dict]:
    params = {"status": status} if status else {}
    response = await client.get(
        f"/v1/webhook-endpoints/{endpoint_id}/deliveries", params=params, headers=signed_headers(brand)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def wait_for_delivery(
    client, brand, endpoint_id, status: str, count: int = 1, timeout_s: float = 30
) -> list[dict]:
    found: list[dict] = []

    async def done() -> bool:
        nonlocal found
        found = await deliveries(client, brand, endpoint_id, status)
        return len(found) >= count

    await eventually(done, timeout_s=timeout_s, what=f"{count} {status} deliveries")
    return found


def failing_times(n: int, status: int = 500):
    async def behaviour(request: Request, nth: int) -> Response:
        return Response(status_code=status if nth <= n else 200)

    return behaviour


async def test_a_receiver_failing_three_times_gets_the_event_signed_on_the_fourth_try(
    client, brand, publish, receiver
):
    url = receiver.path(failing_times(3))
    endpoint = await register(client, brand, url, ["publishing.job_published"])

    event_id = await publish(job_published(), brand)
    [delivery] = await wait_for_delivery(client, brand, endpoint["id"], "succeeded")

    got = receiver.at(url)
    assert len(got) == 4
    last = got[-1]
    standard_webhooks.verify(last.headers, last.body, endpoint["secret"])  # raises if the signature is wrong
    body = orjson.loads(last.body)
    assert body["id"] == str(event_id) == last.headers["webhook-id"]
    assert body["type"] == "publishing.job_published" and body["brand_id"] == str(brand.brand_id)
    assert {r.headers["webhook-id"] for r in got} == {
        str(event_id)
    }  # one id across retries: receivers dedupe
    attempts = (
        await client.get(f"/v1/webhook-deliveries/{delivery['id']}/attempts", headers=signed_headers(brand))
    ).json()
    assert [(a["attempt_number"], a["status_code"]) for a in attempts] == [
        (1, 500),
        (2, 500),
        (3, 500),
        (4, 200),
    ]
    assert delivery["attempts"] == 4


async def test_only_subscribed_event_types_are_delivered(client, brand, publish, receiver):
    url = receiver.path()
    endpoint = await register(client, brand, url, ["publishing.job_failed"])

    await publish(job_published(), brand)
    failed_id = await publish(JobFailed(job_id=uuid.uuid4(), reason="rejected by platform"), brand)

    [delivery] = await wait_for_delivery(client, brand, endpoint["id"], "succeeded")
    assert delivery["event_id"] == str(failed_id)
    assert [orjson.loads(r.body)["type"] for r in receiver.at(url)] == ["publishing.job_failed"]


async def test_410_gone_disables_the_endpoint_and_tells_the_brand(client, brand, publish, receiver, infra):
    url = receiver.path(failing_times(1000, status=410))
    endpoint = await register(client, brand, url)

    async with TopicReader(infra.kafka_bootstrap, "aligned.webhooks.events") as reader:
        await publish(job_published(), brand)
        await wait_for_delivery(client, brand, endpoint["id"], "failed")
        records = await reader.read_until(
            lambda rs: any(EventEnvelope.from_bytes(r.value).brand_id == brand.brand_id for r in rs),
            timeout_s=30,
        )

    state = (
        await client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=signed_headers(brand))
    ).json()
    assert state["enabled"] is False and "410" in state["disabled_reason"]
    [event] = [
        e for e in map(EventEnvelope.from_bytes, (r.value for r in records)) if e.brand_id == brand.brand_id
    ]
    assert event.type == "webhooks.endpoint_disabled" and event.data["endpoint_id"] == endpoint["id"]
    assert len(receiver.at(url)) == 1  # no retry after 410


async def test_an_endpoint_failing_too_long_is_disabled(client, brand, publish, receiver, settings):
    settings.disable_after_failing_s = 0.3
    settings.retry_schedule_s = [0, 20, 20, 20, 20, 20]  # x0.01: a try every 0.2 s
    url = receiver.path(failing_times(1000, status=503))
    endpoint = await register(client, brand, url)

    await publish(job_published(), brand)

    async def disabled() -> bool:
        state = (
            await client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=signed_headers(brand))
        ).json()
        return state["enabled"] is False

    await eventually(disabled, what="the endpoint to be disabled")
    state = (
        await client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=signed_headers(brand))
    ).json()
    assert state["disabled_reason"].startswith("every delivery failed since")


async def test_the_services_clock_decides_when_a_retry_is_due(
    client, brand, publish, receiver, settings, clock
):
    settings.retry_scale = 1.0  # the first retry 5 s after the failure, by the service's clock
    url = receiver.path(failing_times(1))
    endpoint = await register(client, brand, url)

    async def tried_once() -> bool:
        return len(receiver.at(url)) >= 1

    await publish(job_published(), brand)
    await eventually(tried_once, timeout_s=30, what="the first try")
    clock.advance(timedelta(minutes=10))  # the retry is due now; the wall clock says 5 s from now

    [delivery] = await wait_for_delivery(client, brand, endpoint["id"], "succeeded", timeout_s=3)
    assert delivery["attempts"] == 2


async def test_replay_redelivers_exhausted_deliveries(client, brand, publish, receiver, settings):
    settings.retry_schedule_s = [0, 5]  # two tries, 50 ms apart
    healthy = asyncio.Event()

    async def down_until_fixed(request: Request, nth: int) -> Response:
        return Response(status_code=200 if healthy.is_set() else 502)

    url = receiver.path(down_until_fixed)
    endpoint = await register(client, brand, url)
    first = await publish(job_published(), brand)
    second = await publish(job_published(), brand)
    failed = await wait_for_delivery(client, brand, endpoint["id"], "failed", count=2)
    assert len(receiver.at(url)) == 4
    healthy.set()

    one = next(d for d in failed if d["event_id"] == str(first))
    response = await client.post(f"/v1/webhook-deliveries/{one['id']}/replay", headers=signed_headers(brand))
    assert response.status_code == 202
    await wait_for_delivery(client, brand, endpoint["id"], "succeeded")
    response = await client.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/replay",
        json={"since": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
        headers=signed_headers(brand),
    )
    assert response.json() == {"replayed": 1}
    await wait_for_delivery(client, brand, endpoint["id"], "succeeded", count=2)

    delivered_ids = [r.headers["webhook-id"] for r in receiver.at(url)[4:]]
    assert delivered_ids == [str(first), str(second)]


async def test_rotation_signs_with_both_secrets_during_the_overlap(client, brand, publish, receiver):
    url = receiver.path()
    endpoint = await register(client, brand, url)
    rotated = await client.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=signed_headers(brand)
    )
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != endpoint["secret"] and new_secret.startswith("whsec_")

    await publish(job_published(), brand)
    await wait_for_delivery(client, brand, endpoint["id"], "succeeded")

    [got] = receiver.at(url)
    assert len(got.headers["webhook-signature"].split()) == 2
    standard_webhooks.verify(got.headers, got.body, endpoint["secret"])
    standard_webhooks.verify(got.headers, got.body, new_secret)
    with pytest.raises(InvalidSignature):
        standard_webhooks.verify(got.headers, got.body, standard_webhooks.WebhookSecret.generate())


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data", "http://10.0.0.1/hook", "http://[::ffff:10.0.0.1]/"]
)
async def test_internal_targets_are_refused_at_registration(client, brand, url):
    # The guard refuses before any connection: nothing is ever sent to these addresses.
    response = await client.post("/v1/webhook-endpoints", json={"url": url}, headers=signed_headers(brand))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "url"
    assert (await client.get("/v1/webhook-endpoints", headers=signed_headers(brand))).json() == []


async def test_the_guard_runs_again_at_delivery_time(client, brand, publish, receiver, settings):
    url = receiver.path()
    endpoint = await register(client, brand, url)  # loopback allowed when registered
    settings.allow_loopback_targets = False  # ... and no longer when delivered
    settings.retry_schedule_s = [0]

    await publish(job_published(), brand)
    [delivery] = await wait_for_delivery(client, brand, endpoint["id"], "failed")

    assert "loopback" in delivery["last_error"]
    assert receiver.at(url) == []


async def test_a_slow_receiver_does_not_hold_up_a_fast_one(client, brand, publish, receiver, settings):
    settings.delivery_timeout_s = 60
    release = asyncio.Event()

    async def hang(request: Request, nth: int) -> Response:
        await release.wait()
        return Response(status_code=200)

    slow_url, fast_url = receiver.path(hang), receiver.path()
    slow = await register(client, brand, slow_url)
    fast = await register(client, brand, fast_url)
    try:
        for _ in range(20):
            await publish(job_published(), brand)
        # Every delivery to the fast endpoint lands while the slow one still holds its requests.
        await wait_for_delivery(client, brand, fast["id"], "succeeded", count=20)
        assert len(receiver.at(slow_url)) <= settings.delivery_per_endpoint
        assert await deliveries(client, brand, slow["id"], "succeeded") == []
    finally:
        release.set()
    await wait_for_delivery(client, brand, slow["id"], "succeeded", count=20)


async def test_another_brand_cannot_see_or_change_an_endpoint(client, brand, receiver):
    endpoint = await register(client, brand, receiver.path())
    other = Identity(tenant_id=uuid.uuid4(), brand_id=uuid.uuid4(), user_id="u2", role="owner")

    for method, path in [
        ("GET", f"/v1/webhook-endpoints/{endpoint['id']}"),
        ("GET", f"/v1/webhook-endpoints/{endpoint['id']}/secret"),
        ("POST", f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret"),
        ("DELETE", f"/v1/webhook-endpoints/{endpoint['id']}"),
    ]:
        response = await client.request(method, path, headers=signed_headers(other))
        assert response.status_code == 404, (method, path)
    assert (await client.get("/v1/webhook-endpoints", headers=signed_headers(other))).json() == []
    secret = (
        await client.get(f"/v1/webhook-endpoints/{endpoint['id']}/secret", headers=signed_headers(brand))
    ).json()
    assert secret["secret"] == endpoint["secret"]


async def test_endpoint_validation_names_the_field(client, brand):
    response = await client.post(
        "/v1/webhook-endpoints",
        json={"url": "https://example.com/x", "event_types": ["publishing.nope"]},
        headers=signed_headers(brand),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "event_types"
    viewer = Identity(brand.tenant_id, brand.brand_id, "u3", "viewer")
    response = await client.post(
        "/v1/webhook-endpoints", json={"url": "https://example.com/x"}, headers=signed_headers(viewer)
    )
    assert response.status_code == 403


async def test_secrets_are_encrypted_at_rest(client, brand, receiver, webhooks, pg_pool):
    endpoint = await register(client, brand, receiver.path())
    [row] = await query(
        pg_pool,
        webhooks.ctx.schema,
        "SELECT secret_sealed, secret_key_id FROM webhook_endpoints WHERE id = $1",
        uuid.UUID(endpoint["id"]),
    )
    assert endpoint["secret"].encode() not in bytes(row["secret_sealed"])
    assert row["secret_key_id"].startswith("k-")
