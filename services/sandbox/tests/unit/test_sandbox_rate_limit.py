import pytest

from aligned_testing.sandbox import bearer

pytestmark = pytest.mark.unit


async def test_a_burst_beyond_capacity_gets_429_with_retry_after(connect, client):
    await client.post("/_control/config", json={"rate_limit_capacity": 3, "rate_limit_refill_per_s": 0.5})
    tokens = await connect()

    statuses = [(await client.get("/api/v1/me", headers=bearer(tokens))).status_code for _ in range(4)]
    limited = await client.get("/api/v1/me", headers=bearer(tokens))

    assert statuses == [200, 200, 200, 429]
    assert limited.json()["error"] == "rate_limited"
    assert int(limited.headers["retry-after"]) == 2  # one token at 0.5 a second


async def test_the_bucket_refills_with_time(connect, client):
    await client.post("/_control/config", json={"rate_limit_capacity": 1, "rate_limit_refill_per_s": 1})
    tokens = await connect()
    await client.get("/api/v1/me", headers=bearer(tokens))
    assert (await client.get("/api/v1/me", headers=bearer(tokens))).status_code == 429

    await client.post("/_control/clock/advance", json={"seconds": 1})

    assert (await client.get("/api/v1/me", headers=bearer(tokens))).status_code == 200


async def test_each_account_has_its_own_bucket(connect, client):
    await client.post("/_control/config", json={"rate_limit_capacity": 1, "rate_limit_refill_per_s": 0.01})
    alice, bob = await connect("alice"), await connect("bob")
    await client.get("/api/v1/me", headers=bearer(alice))
    assert (await client.get("/api/v1/me", headers=bearer(alice))).status_code == 429
    assert (await client.get("/api/v1/me", headers=bearer(bob))).status_code == 200
