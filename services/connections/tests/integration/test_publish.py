"""publishing.attempt_requested -> exactly one post: stored answers, redeliveries, lost answers,
rate limits and dead connections."""

import asyncio
import dataclasses
import uuid
from types import SimpleNamespace

import asyncpg
import pytest

from aligned_common.db import create_pool
from aligned_common.envelope import EventEnvelope, new_event
from aligned_common.events.publishing import AttemptRequested
from aligned_common.inbox import InboxEntry
from aligned_common.units import Opens
from aligned_connections.adapters.unit_of_work import SqlUnitOfWork
from aligned_connections.service_layer.publish import handle_attempt_requested

pytestmark = pytest.mark.integration


def attempt(
    connection: dict, key: str | None = None, n: int = 1, text: str | None = None
) -> AttemptRequested:
    key = key or f"job-{uuid.uuid4()}:sandbox"
    return AttemptRequested(
        job_id=uuid.uuid4(),
        target_id=uuid.uuid4(),
        platform="sandbox",
        connection_id=uuid.UUID(connection["id"]),
        idempotency_key=key,
        attempt=n,
        text=text or f"launch day {uuid.uuid4().hex[:8]}",
    )


def answers(tools, records, service, key):
    return [
        e
        for e in tools.envelopes_of(records, {service.brand_id})
        if e.type in ("connections.post_published", "connections.post_failed")
        and e.data["idempotency_key"] == key
    ]


async def answers_for(tools, reader, service, key, count=1, timeout_s=30):
    records = await reader.read_until(
        lambda rs: len(answers(tools, rs, service, key)) >= count, timeout_s=timeout_s, settle_s=0.5
    )
    return answers(tools, records, service, key)


@pytest.fixture
async def forgetful_sandbox(sandbox):
    """The sandbox forgets idempotency keys at once, so any blind re-send shows as a duplicate."""
    await sandbox.configure(idempotency_window_s=0.001)
    return sandbox


async def test_an_attempt_is_published_once_and_answered(service, forgetful_sandbox, tools, events):
    connection = await tools.connect(service)
    request = attempt(connection)
    async with tools.reader(service.bootstrap, tools.topic) as reader:
        await events.publish(request, service.brand_id, service.tenant_id)
        [answer] = await answers_for(tools, reader, service, request.idempotency_key)
    assert answer.type == "connections.post_published"
    assert answer.data["remote_id"].startswith("post_") and answer.data["url"]
    counts = await forgetful_sandbox.counts()
    assert counts["by_idempotency_key"] == {request.idempotency_key: 1}


async def test_a_redelivered_or_repeated_attempt_does_not_post_again(
    service, forgetful_sandbox, tools, events
):
    connection = await tools.connect(service)
    request = attempt(connection)
    async with tools.reader(service.bootstrap, tools.topic) as reader:
        envelope = await events.publish(request, service.brand_id, service.tenant_id)
        [first] = await answers_for(tools, reader, service, request.idempotency_key)
        await events.send(envelope)  # the same event again, as after a consumer crash
        repeat = request.model_copy(update={"attempt": 2})
        await events.publish(repeat, service.brand_id, service.tenant_id)  # publishing asks again
        found = await answers_for(tools, reader, service, request.idempotency_key, count=2)
    assert len(found) == 2  # the redelivered event was recognised and changed nothing
    assert {a.data["remote_id"] for a in found} == {first.data["remote_id"]}
    assert [a.data["attempt"] for a in found] == [1, 2]
    assert (await forgetful_sandbox.counts())["total_created"] == 1


async def test_a_lost_answer_is_settled_by_asking_not_by_sending_again(
    service, forgetful_sandbox, tools, events
):
    connection = await tools.connect(service)
    request = attempt(connection)
    read_timeout = service.settings.platform_read_timeout_s
    await forgetful_sandbox.fault(
        mode="timeout_after_accept", endpoint="/api/v1/posts", method="POST", delay_s=read_timeout + 1
    )
    async with tools.reader(service.bootstrap, tools.topic) as reader:
        await events.publish(request, service.brand_id, service.tenant_id)
        [answer] = await answers_for(tools, reader, service, request.idempotency_key, timeout_s=60)
    assert answer.type == "connections.post_published"
    counts = await forgetful_sandbox.counts()
    assert counts["by_idempotency_key"] == {request.idempotency_key: 1}
    assert counts["by_post_id"] == {answer.data["remote_id"]: 1}


async def test_a_server_error_is_retryable_and_the_retry_checks_first(
    service, forgetful_sandbox, tools, events
):
    connection = await tools.connect(service)
    request = attempt(connection)
    await forgetful_sandbox.fault(mode="error_500", endpoint="/api/v1/posts", method="POST")
    async with tools.reader(service.bootstrap, tools.topic) as reader:
        await events.publish(request, service.brand_id, service.tenant_id)
        [failed] = await answers_for(tools, reader, service, request.idempotency_key)
        await events.publish(request.model_copy(update={"attempt": 2}), service.brand_id, service.tenant_id)
        found = await answers_for(tools, reader, service, request.idempotency_key, count=2)
    assert failed.type == "connections.post_failed"
    assert failed.data["retryable"] is True and failed.data["reason"] == "retryable"
    assert "injected fault" in failed.data["platform_message"]
    assert found[1].type == "connections.post_published"
    assert (await forgetful_sandbox.counts())["total_created"] == 1


async def test_content_the_platform_refuses_is_not_retryable_and_keeps_its_reason(
    service, sandbox, tools, events
):
    connection = await tools.connect(service)
    request = attempt(connection, text="x" * 1001)
    async with tools.reader(service.bootstrap, tools.topic) as reader:
        await events.publish(request, service.brand_id, service.tenant_id)
        [answer] = await answers_for(tools, reader, service, request.idempotency_key)
    assert answer.type == "connections.post_failed"
    assert answer.data["retryable"] is False and answer.data["reason"] == "rejected"
    assert "1000" in answer.data["platform_message"]


async def test_rate_limited_attempts_wait_as_the_platform_said_without_calling_it(
    service, sandbox, tools, events
):
    connection = await tools.connect(service)
    first = attempt(connection)
    await sandbox.fault(mode="error_429", endpoint="/api/v1/posts", method="POST", retry_after_s=30)
    async with tools.reader(service.bootstrap, tools.topic) as reader:
        await events.publish(first, service.brand_id, service.tenant_id)
        [limited] = await answers_for(tools, reader, service, first.idempotency_key)
        # Armed now: if the next attempt called the platform, this rule would be used up.
        await sandbox.fault(mode="error_500", endpoint="/api/v1/posts", method="POST")
        second = attempt(connection)
        await events.publish(second, service.brand_id, service.tenant_id)
        [held] = await answers_for(tools, reader, service, second.idempotency_key)
    assert limited.data["reason"] == "rate_limited" and limited.data["retry_after_s"] == pytest.approx(
        30, abs=1
    )
    assert held.data["reason"] == "rate_limited" and held.data["retryable"] is True
    assert 25 < held.data["retry_after_s"] <= 30
    assert [rule["mode"] for rule in await sandbox.faults()] == ["error_500"]
    assert (await sandbox.counts())["total_created"] == 0


async def test_bursts_to_one_account_are_paced_by_the_shared_bucket(service, sandbox, tools, events):
    connection = await tools.connect(service)
    burst = [attempt(connection) for _ in range(int(service.settings.rate_limit_capacity) + 5)]
    async with tools.reader(service.bootstrap, tools.topic) as reader:
        for request in burst:
            await events.publish(request, service.brand_id, service.tenant_id)
        records = await reader.read_until(
            lambda rs: all(answers(tools, rs, service, r.idempotency_key) for r in burst),
            timeout_s=60,
            settle_s=0.2,
        )
    outcomes = [answers(tools, records, service, r.idempotency_key)[0] for r in burst]
    paced = [a for a in outcomes if a.type == "connections.post_failed"]
    assert paced and all(a.data["reason"] == "rate_limited" and a.data["retry_after_s"] > 0 for a in paced)
    assert (await sandbox.counts())["total_created"] == len(burst) - len(paced)


@pytest.mark.parametrize(
    "status,reason", [("expired", "connection_expired"), ("revoked", "connection_revoked")]
)
async def test_a_dead_connection_fails_the_attempt_without_a_platform_call(
    service, sandbox, tools, events, status, reason
):
    connection = await tools.connect(service)
    async with service.uow(service.brand_id) as uow:
        await uow.conn.execute(
            "UPDATE platform_connections SET status = $2 WHERE id = $1", uuid.UUID(connection["id"]), status
        )
    request = attempt(connection)
    await sandbox.fault(mode="error_500", endpoint="/api/v1/posts", method="POST")
    async with tools.reader(service.bootstrap, tools.topic) as reader:
        await events.publish(request, service.brand_id, service.tenant_id)
        [answer] = await answers_for(tools, reader, service, request.idempotency_key)
    assert answer.type == "connections.post_failed"
    assert answer.data["reason"] == reason and answer.data["retryable"] is False
    assert len(await sandbox.faults()) == 1  # never called
    async with service.uow(service.brand_id) as uow:  # and nothing recorded: the claim's one statement
        assert (
            await uow.conn.fetchval(
                "SELECT count(*) FROM publish_attempts WHERE idempotency_key = $1", request.idempotency_key
            )
            == 0
        )


async def test_a_token_refused_mid_publish_is_refreshed_and_the_post_goes_out(
    service, sandbox, tools, events
):
    connection = await tools.connect(service)
    request = attempt(connection)
    await sandbox.fault(mode="error_401", endpoint="/api/v1/posts", method="POST")
    async with tools.reader(service.bootstrap, tools.topic) as reader:
        await events.publish(request, service.brand_id, service.tenant_id)
        [answer] = await answers_for(tools, reader, service, request.idempotency_key)
    assert answer.type == "connections.post_published"
    assert (await sandbox.counts())["total_created"] == 1


async def test_an_unexpected_error_mid_call_releases_the_lease_and_the_retry_goes_at_once(
    service, forgetful_sandbox, tools, events, monkeypatch
):
    """A handling that fails with an error the adapters do not know (after the lease was taken)
    must not leave the attempt in_flight until its 60 s lease lapses: the inbox's retry asks the
    platform and publishes, and publishing gets post_published, not "another attempt is in progress"."""
    from aligned_connections.service_layer import publish as publish_module

    real_call, calls = publish_module._call_platform, []

    async def fails_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a bug between the claim and the answer")
        return await real_call(*args, **kwargs)

    monkeypatch.setattr(publish_module, "_call_platform", fails_once)
    connection = await tools.connect(service)
    request = attempt(connection)
    async with tools.reader(service.bootstrap, tools.topic) as reader:
        await events.publish(request, service.brand_id, service.tenant_id)
        [answer] = await answers_for(tools, reader, service, request.idempotency_key, timeout_s=20)
    assert service.settings.publish_lease_s > 20  # the answer came well before the lease would lapse
    assert answer.type == "connections.post_published", answer.data
    assert len(calls) == 2
    assert (await forgetful_sandbox.counts())["by_idempotency_key"] == {request.idempotency_key: 1}


async def test_a_published_attempt_takes_seven_round_trips_the_outcome_three(infra, service, sandbox, tools):
    """The claim (BEGIN, connection + record + lock, token + lease, COMMIT) and the outcome
    (BEGIN with the inbox row, the record's update with the event's outbox row, COMMIT), the
    pool's reset in each COMMIT: round trips are most of a post's cost (docs/performance.md; it
    was twelve: the claim read the connection and locked the bucket on their own, the outcome
    wrote its event on its own, each unit of work had a reset of its own). Each is one logged
    query. The account's first attempt (which makes its bucket) goes first, unlogged."""
    connection = await tools.connect(service)
    first, request = attempt(connection), attempt(connection)
    queries: list[str] = []

    async def log_queries(conn: asyncpg.Connection) -> None:
        conn.add_query_logger(lambda record: queries.append(record.query))

    pool = await create_pool(infra.database_url, min_size=1, max_size=1, init=log_queries)
    try:
        database = SimpleNamespace(pool=pool, read_pool=pool, schema=service.schema)
        deps = dataclasses.replace(service.deps, database=database, units=Opens(SqlUnitOfWork, database))
        route = SimpleNamespace(name="on_attempt_requested", role="app")
        for data in (first, request):
            await asyncio.sleep(0)  # the logger's callbacks are scheduled with call_soon
            queries.clear()
            envelope = new_event(data, brand_id=service.brand_id, tenant_id=service.tenant_id)
            entry = InboxEntry(SimpleNamespace(pool=pool, schema=service.schema), route, envelope)
            await handle_attempt_requested(deps, entry, envelope, data)
        await asyncio.sleep(0)
        # asyncpg looks a type up once per connection (typeinfo_tree, with JIT off around it).
        ours = [q for q in queries if "typeinfo_tree" not in q and "set_config('jit'" not in q]
        async with service.uow(service.brand_id) as uow:
            status = await uow.conn.fetchval(
                "SELECT status FROM publish_attempts WHERE idempotency_key = $1", request.idempotency_key
            )
            outbox = await uow.conn.fetch(
                "SELECT event_type, payload FROM outbox WHERE key = $1 AND event_type LIKE 'connections.post_%'",
                str(service.brand_id),
            )
    finally:
        await pool.close()
    assert len(ours) == 7, ours
    assert ours[0].startswith("BEGIN") and ours[1].startswith("WITH c AS (SELECT id, brand_id")
    assert ours[2].startswith("WITH old AS (") and "UPDATE publish_attempts" in ours[2]
    assert ours[3].startswith("COMMIT") and "RESET ALL" in ours[3]
    assert ours[4].startswith("BEGIN") and "INSERT INTO processed_events" in ours[4]
    assert ours[5].startswith("WITH settled AS (UPDATE publish_attempts") and "INSERT INTO outbox" in ours[5]
    assert "COMMIT" in ours[6] and "RESET ALL" in ours[6]
    assert status == "published" and [r["event_type"] for r in outbox] == ["connections.post_published"] * 2
    keys = {EventEnvelope.from_bytes(r["payload"]).data["idempotency_key"] for r in outbox}
    assert keys == {first.idempotency_key, request.idempotency_key}
    counts = (await sandbox.counts())["by_idempotency_key"]
    assert counts == {first.idempotency_key: 1, request.idempotency_key: 1}
