"""Connection expiry holds a connection's targets with a reason; restore resumes or reports missed."""

import asyncio
from datetime import timedelta

import pytest

from aligned_common.events.connections import ConnectionExpired, ConnectionRestored, PostFailed
from aligned_testing.kafka_reader import TopicReader
from aligned_testing.polling import eventually
from aligned_testing.publishing import events_of, job_body

pytestmark = pytest.mark.integration
TOPIC = "aligned.publishing.events"


def _expired(connection_id):
    return ConnectionExpired(connection_id=connection_id, platform="sandbox", reason="refresh token rejected")


def _restored(connection_id):
    return ConnectionRestored(connection_id=connection_id, platform="sandbox")


async def _target(client, brand, job_id) -> dict:
    return (await client.get(f"/v1/jobs/{job_id}", headers=brand.headers)).json()["targets"][0]


async def _schedule(client, brand, connection_id, at) -> dict:
    job = (
        await client.post(
            "/v1/jobs", headers=brand.headers, json=job_body(connection_id, scheduled_at=at.isoformat())
        )
    ).json()
    await client.post(f"/v1/jobs/{job['job_id']}/submit", headers=brand.headers)
    return job


async def test_expired_connection_holds_with_reason_and_restore_resumes(svc, brand, infra):
    connection = await brand.connect(svc)
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:
        job = await _schedule(client, brand, connection, svc.clock.now() + timedelta(minutes=5))
        await brand.send(_expired(connection))

        async def held():
            return (await _target(client, brand, job["job_id"]))["status"] == "held"

        await eventually(held, what="target held")
        detail = (await client.get(f"/v1/jobs/{job['job_id']}", headers=brand.headers)).json()
        assert "connection_expired" in detail["status_reason"] and str(connection) in detail["status_reason"]

        # A job scheduled while the connection is broken is held at once, not failed later.
        later = await _schedule(client, brand, connection, svc.clock.now() + timedelta(minutes=6))
        assert (await _target(client, brand, later["job_id"]))["status"] == "held"

        svc.clock.advance(timedelta(minutes=7))  # both due now
        await asyncio.sleep(0.5)
        early = await topic.read_until(lambda rs: True, settle_s=0.3)
        assert not events_of(early, brand, "publishing.attempt_requested")

        await brand.send(_restored(connection))
        records = await topic.read_until(
            lambda rs: len(events_of(rs, brand, "publishing.attempt_requested")) >= 2, settle_s=1.0
        )
    assert {e["data"]["job_id"] for e in events_of(records, brand, "publishing.attempt_requested")} == {
        job["job_id"],
        later["job_id"],
    }


async def test_a_target_held_past_the_grace_window_is_reported_missed_not_posted(svc, brand, infra):
    connection = await brand.connect(svc)
    grace = timedelta(seconds=svc.ctx.deps.settings.hold_grace_s)
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:
        job = await _schedule(client, brand, connection, svc.clock.now() + timedelta(minutes=1))
        await brand.send(_expired(connection))
        await eventually(lambda: _held(client, brand, job), what="held")
        svc.clock.advance(timedelta(minutes=1) + grace + timedelta(minutes=1))
        await brand.send(_restored(connection))
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.job_failed"), settle_s=1.0
        )
    (missed,) = events_of(records, brand, "publishing.target_missed")
    assert missed["data"]["job_id"] == job["job_id"] and "grace window" in missed["data"]["reason"]
    assert not events_of(records, brand, "publishing.attempt_requested")
    assert (await _target_status(svc, brand, job)) == "missed"


async def test_a_failure_for_an_expired_connection_holds_instead_of_failing(svc, brand, infra):
    connection = await brand.connect(svc)
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:
        job = (await client.post("/v1/jobs", headers=brand.headers, json=job_body(connection))).json()
        await client.post(f"/v1/jobs/{job['job_id']}/publish-now", headers=brand.headers)
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.attempt_requested"), settle_s=0
        )
        data = events_of(records, brand, "publishing.attempt_requested")[0]["data"]
        await brand.send(
            PostFailed(
                job_id=data["job_id"],
                target_id=data["target_id"],
                connection_id=connection,
                platform="sandbox",
                idempotency_key=data["idempotency_key"],
                attempt=1,
                retryable=False,
                reason="connection_expired",
            )
        )
        await eventually(lambda: _held(client, brand, job), what="held after failure")
        await brand.send(_restored(connection))
        records = await topic.read_until(
            lambda rs: len(events_of(rs, brand, "publishing.attempt_requested")) >= 2, settle_s=0.5
        )
    second = events_of(records, brand, "publishing.attempt_requested")[1]["data"]
    assert second["attempt"] == 2 and second["idempotency_key"] == data["idempotency_key"]


async def _held(client, brand, job) -> bool:
    return (await _target(client, brand, job["job_id"]))["status"] == "held"


async def _target_status(svc, brand, job) -> str:
    async with svc.client() as client:
        return (await _target(client, brand, job["job_id"]))["status"]
