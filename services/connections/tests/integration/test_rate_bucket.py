"""The claim's token bucket is taken in SQL (one statement with the lease, so the account's bucket
row is locked for one round trip): it must decide as domain.rate_limit.take does."""

import uuid
from datetime import timedelta

import pytest

from aligned_connections.adapters.attempts_repo import SqlAttempts
from aligned_connections.domain.rate_limit import Bucket, take

pytestmark = pytest.mark.integration

CAPACITY, REFILL = 10.0, 2.0

# (tokens, seconds since the last take, seconds until a Retry-After ends, or None)
STATES = [
    (5.0, 1.0, None),  # refilled to 7: allowed
    (0.2, 0.1, None),  # 0.4: not yet, 0.3 s to wait
    (0.0, 100.0, None),  # capped at the capacity
    (10.0, 0.0, 30.0),  # the platform said wait: tokens do not matter
    (3.0, 0.0, -5.0),  # a Retry-After that has passed
    (0.9, 0.0, None),  # just short of one token
]


@pytest.mark.parametrize(("tokens", "ago_s", "blocked_for_s"), STATES)
async def test_the_claims_token_bucket_decides_as_the_domain_does(service, tokens, ago_s, blocked_for_s):
    connection_id, key = uuid.uuid4(), f"job-{uuid.uuid4()}:sandbox"
    async with service.uow(service.brand_id) as uow:
        now = await uow.conn.fetchval("SELECT clock_timestamp()")
        blocked = now + timedelta(seconds=blocked_for_s) if blocked_for_s is not None else None
        await uow.conn.execute(
            "INSERT INTO rate_buckets (connection_id, brand_id, tokens, updated_at, blocked_until)"
            " VALUES ($1, $2, $3, $4, $5)",
            connection_id,
            service.brand_id,
            tokens,
            now - timedelta(seconds=ago_s),
            blocked,
        )
        await uow.conn.execute(
            "INSERT INTO publish_attempts (idempotency_key, brand_id, tenant_id, connection_id, job_id, target_id,"
            " platform, status, last_attempt) VALUES ($1, $2, $3, $4, $5, $6, 'sandbox', 'pending', 1)",
            key,
            service.brand_id,
            service.tenant_id,
            connection_id,
            uuid.uuid4(),
            uuid.uuid4(),
        )
        decision = await SqlAttempts(uow.conn).take_token_and_lease(
            key, 1, 60, connection_id, service.brand_id, CAPACITY, REFILL
        )
        stored = await uow.conn.fetchrow(
            "SELECT tokens FROM rate_buckets WHERE connection_id = $1", connection_id
        )
        status = await uow.conn.fetchval(
            "SELECT status FROM publish_attempts WHERE idempotency_key = $1", key
        )
    # The statement ran a few ms after `now`: the refill in those ms is all that may differ.
    expected = take(Bucket(tokens, now - timedelta(seconds=ago_s), blocked), now, CAPACITY, REFILL)
    assert decision.allowed is expected.allowed
    assert decision.tokens == pytest.approx(expected.tokens, abs=0.2)
    assert decision.wait_s == pytest.approx(expected.wait_s, abs=0.1)
    assert stored["tokens"] == pytest.approx(decision.tokens)
    assert status == ("in_flight" if expected.allowed else "pending")


async def test_an_accounts_first_claim_makes_its_bucket_full(service):
    connection_id = uuid.uuid4()
    async with service.uow(service.brand_id) as uow:
        decision = await SqlAttempts(uow.conn).take_token_and_lease(
            "no-such-key", 1, 60, connection_id, service.brand_id, CAPACITY, REFILL
        )
    assert decision.allowed and decision.tokens == pytest.approx(CAPACITY - 1, abs=0.01)
