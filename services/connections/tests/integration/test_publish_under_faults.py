"""500 publish attempts while the platform fails at random (500s, 429s, answers lost after the
post was made): every idempotency key gets exactly one post, and every attempt an answer.

The sandbox is set to forget idempotency keys at once, so the platform does not save us: a
blind re-send after a lost answer would show up as a second post in its counts. This test plays
the publishing service: it asks again, with the next attempt number, whenever connections
answers post_failed retryable.
"""

import asyncio
import time
import uuid

import pytest

from aligned_common.envelope import EventEnvelope
from aligned_common.events.publishing import AttemptRequested

pytestmark = pytest.mark.integration

ATTEMPTS = 500
ACCOUNTS = 6  # one brand each, so the work spreads over the topic's partitions
READ_TIMEOUT_S = 0.3


@pytest.fixture(scope="module")
def service_overrides() -> dict:
    return {
        "platform_read_timeout_s": READ_TIMEOUT_S,
        "rate_limit_capacity": 10_000.0,
        "rate_limit_refill_per_s": 10_000.0,
        "default_retry_after_s": 0.1,
    }


async def test_500_attempts_under_faults_make_exactly_one_post_each(service, sandbox, tools, events):
    brands = []
    for index in range(ACCOUNTS):
        brand = type(service)(**{**service.__dict__, "brand_id": uuid.uuid4(), "tenant_id": uuid.uuid4()})
        connection = await tools.connect(brand, f"account{index}")
        brands.append((brand, connection))
    await sandbox.configure(
        idempotency_window_s=0.001, rate_limit_capacity=100_000, rate_limit_refill_per_s=100_000
    )
    await sandbox.fault(
        fail_ratio=0.25,
        modes=["error_500", "error_429", "timeout_after_accept"],
        endpoint="/api/v1/posts",
        method="POST",
        delay_s=READ_TIMEOUT_S + 0.3,
        retry_after_s=0,
        seed=20240601,
    )
    requests: dict[str, tuple[AttemptRequested, object]] = {}
    for i in range(ATTEMPTS):
        brand, connection = brands[i % ACCOUNTS]
        key = f"job-{uuid.uuid4()}:sandbox"
        requests[key] = (
            AttemptRequested(
                job_id=uuid.uuid4(),
                target_id=uuid.uuid4(),
                platform="sandbox",
                connection_id=uuid.UUID(connection["id"]),
                idempotency_key=key,
                attempt=1,
                text=f"post {i} of the fault test {uuid.uuid4().hex[:6]}",
            ),
            brand,
        )
    brand_ids = {brand.brand_id for brand, _ in brands}
    published: dict[str, str] = {}
    failures: list[dict] = []
    retries = 0
    answered: set[uuid.UUID] = set()

    async with tools.reader(service.bootstrap, tools.topic) as reader:
        for request, brand in requests.values():
            await events.publish(request, brand.brand_id, brand.tenant_id)
        seen = 0
        deadline = time.monotonic() + 150
        while len(published) < ATTEMPTS and time.monotonic() < deadline:
            records = await reader.read_until(lambda rs: True, timeout_s=0.5, settle_s=0)
            for record in records[seen:]:
                envelope = EventEnvelope.from_bytes(record.value)
                if envelope.brand_id not in brand_ids or envelope.data.get("idempotency_key") not in requests:
                    continue
                if envelope.id in answered:
                    continue  # delivered twice (at least once): publishing dedupes by event id too
                answered.add(envelope.id)
                key = envelope.data["idempotency_key"]
                if envelope.type == "connections.post_published":
                    assert published.setdefault(key, envelope.data["remote_id"]) == envelope.data["remote_id"]
                elif envelope.type == "connections.post_failed":
                    if not envelope.data["retryable"]:
                        failures.append(envelope.data)
                        continue
                    request, brand = requests[key]
                    request = request.model_copy(update={"attempt": envelope.data["attempt"] + 1})
                    requests[key] = (request, brand)
                    retries += 1
                    asyncio.get_running_loop().call_later(
                        min(envelope.data["retry_after_s"] or 0.1, 0.5),
                        lambda r=request, b=brand: asyncio.ensure_future(
                            events.publish(r, b.brand_id, b.tenant_id)
                        ),
                    )
            seen = len(records)

    assert failures == []
    assert len(published) == ATTEMPTS, f"{ATTEMPTS - len(published)} attempts never published"
    assert retries > 0  # the faults did happen
    counts = await sandbox.counts()
    assert counts["total_created"] == ATTEMPTS
    assert set(counts["by_idempotency_key"]) == set(requests)
    assert set(counts["by_idempotency_key"].values()) == {1}
    assert sorted(published.values()) == sorted(counts["by_post_id"])
