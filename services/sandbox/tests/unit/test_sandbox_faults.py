import asyncio
import time

import pytest

from aligned_testing.sandbox import bearer

pytestmark = pytest.mark.unit


async def inject(client, **spec) -> None:
    response = await client.post("/_control/faults", json=spec)
    assert response.status_code == 201, response.text


async def test_error_500_fails_the_next_n_matching_requests_then_stops(connect, client):
    tokens = await connect()
    await inject(client, mode="error_500", count=2)

    statuses = [(await client.get("/api/v1/me", headers=bearer(tokens))).status_code for _ in range(3)]

    assert statuses == [500, 500, 200]


async def test_endpoint_and_method_filters_limit_the_fault(connect, publish, client):
    tokens = await connect()
    await inject(client, mode="error_500", endpoint="/api/v1/posts", method="POST")

    assert (await client.get("/api/v1/me", headers=bearer(tokens))).status_code == 200
    assert (await publish(tokens)).status_code == 500
    assert (await publish(tokens)).status_code == 201


async def test_error_429_carries_retry_after(connect, client):
    tokens = await connect()
    await inject(client, mode="error_429", retry_after_s=7)
    response = await client.get("/api/v1/me", headers=bearer(tokens))
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"


async def test_error_401_answers_like_a_dead_token(connect, client):
    tokens = await connect()
    await inject(client, mode="error_401")
    response = await client.get("/api/v1/me", headers=bearer(tokens))
    assert (response.status_code, response.json()["error"]) == (401, "invalid_token")


async def test_timeout_after_accept_creates_the_post_but_answers_too_late(connect, publish, client):
    tokens = await connect()
    await inject(client, mode="timeout_after_accept", endpoint="/api/v1/posts", delay_s=30)

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(publish(tokens, "unknown outcome", key="k-timeout"), timeout=0.5)

    counts = (await client.get("/_control/posts/counts")).json()
    assert counts["by_idempotency_key"] == {"k-timeout": 1}
    recent = (await client.get("/api/v1/posts", headers=bearer(tokens))).json()["posts"]
    assert recent[0]["text"] == "unknown outcome"


async def test_slow_delays_then_answers_normally(connect, client):
    tokens = await connect()
    await inject(client, mode="slow", delay_s=0.3)
    started = time.monotonic()
    response = await client.get("/api/v1/me", headers=bearer(tokens))
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


async def test_a_fail_ratio_fails_some_requests_repeatably_for_a_seed(connect, client):
    async def pattern() -> list[int]:
        await client.delete("/_control/faults")
        await inject(client, fail_ratio=0.5, modes=["error_500", "error_429"], seed=42)
        return [(await client.get("/api/v1/me", headers=bearer(tokens))).status_code for _ in range(30)]

    tokens = await connect()
    first, second = await pattern(), await pattern()

    assert first == second
    assert set(first) == {200, 429, 500}


async def test_clearing_faults_restores_normal_service(connect, client):
    tokens = await connect()
    await inject(client, mode="error_500", count=5)
    assert len((await client.get("/_control/faults")).json()) == 1

    await client.delete("/_control/faults")

    assert (await client.get("/api/v1/me", headers=bearer(tokens))).status_code == 200


async def test_faults_never_touch_the_control_api(client):
    await inject(client, mode="error_500", count=3)
    assert (await client.get("/_control/posts/counts")).status_code == 200


async def test_a_fault_needs_a_mode_or_a_ratio_with_modes(client):
    assert (await client.post("/_control/faults", json={"count": 1})).status_code == 422
    assert (await client.post("/_control/faults", json={"fail_ratio": 0.5})).status_code == 422
    assert (await client.post("/_control/faults", json={"mode": "explode"})).status_code == 422
