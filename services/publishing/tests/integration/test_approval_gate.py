"""The approval gate, both ways: nothing goes out until the current round is approved."""

import asyncio
import uuid
from datetime import timedelta

import pytest

from aligned_common.events.approval import Approved, Rejected
from aligned_testing.kafka_reader import TopicReader
from aligned_testing.polling import eventually
from aligned_testing.publishing import events_of, job_body

pytestmark = pytest.mark.integration
TOPIC = "aligned.publishing.events"


async def _job(client, brand, job_id):
    return (await client.get(f"/v1/jobs/{job_id}", headers=brand.headers)).json()


def _decision(model, job, round_, comment=None):
    return model(
        approval_id=uuid.uuid4(), job_id=job["job_id"], round=round_, decided_by="client-9", comment=comment
    )


async def test_an_approved_job_goes_out_when_due_and_not_before(svc, brand, infra):
    due = svc.clock.now() + timedelta(minutes=10)
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:
        created = await client.post(
            "/v1/jobs",
            headers=brand.headers,
            json=job_body(brand.sandbox, requires_approval=True, scheduled_at=due.isoformat()),
        )
        assert created.status_code == 201, created.text
        job = created.json()
        submitted = (await client.post(f"/v1/jobs/{job['job_id']}/submit", headers=brand.headers)).json()
        assert submitted["status"] == "pending_approval"

        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.job_created"), settle_s=0
        )
        (announced,) = events_of(records, brand, "publishing.job_created")
        assert announced["data"]["requires_approval"] is True and announced["data"]["round"] == 1

        svc.clock.advance(timedelta(minutes=11))  # due, but not approved
        await asyncio.sleep(0.5)  # ten dispatcher ticks
        assert (await _job(client, brand, job["job_id"]))["targets"][0]["status"] == "waiting"

        await brand.send(_decision(Approved, job, 1))
        records = await topic.read_until(lambda rs: events_of(rs, brand, "publishing.attempt_requested"))
        (attempt,) = events_of(records, brand, "publishing.attempt_requested")
        assert attempt["data"]["target_id"] == job["targets"][0]["target_id"]
        assert attempt["data"]["text"] == "Spring collection is live"
        assert (await _job(client, brand, job["job_id"]))["status"] == "publishing"


async def test_a_rejected_job_goes_back_with_the_comment_and_never_out(svc, brand):
    async with svc.client() as client:
        job = (
            await client.post(
                "/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox, requires_approval=True)
            )
        ).json()
        await client.post(
            f"/v1/jobs/{job['job_id']}/publish-now", headers=brand.headers
        )  # needs approval first
        await client.post(f"/v1/jobs/{job['job_id']}/submit", headers=brand.headers)
        await brand.send(_decision(Rejected, job, 1, comment="Wrong product photo"))

        async def sent_back():
            current = await _job(client, brand, job["job_id"])
            return current if current["status"] == "changes_requested" else None

        current = await eventually(sent_back, what="changes_requested")
        assert "Wrong product photo" in current["status_reason"]
        assert current["targets"][0]["status"] == "waiting"
        refused = await client.post(f"/v1/jobs/{job['job_id']}/publish-now", headers=brand.headers)
        assert refused.status_code == 409


async def test_an_edit_after_approval_asks_again_and_the_old_approval_changes_nothing(svc, brand, infra):
    due = svc.clock.now() + timedelta(hours=1)
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:
        job = (
            await client.post(
                "/v1/jobs",
                headers=brand.headers,
                json=job_body(brand.sandbox, requires_approval=True, scheduled_at=due.isoformat()),
            )
        ).json()
        await client.post(f"/v1/jobs/{job['job_id']}/submit", headers=brand.headers)
        first_approval = await brand.send(_decision(Approved, job, 1))

        async def scheduled():
            return (await _job(client, brand, job["job_id"]))["status"] == "scheduled"

        await eventually(scheduled, what="scheduled after approval")
        edited = await client.patch(
            f"/v1/jobs/{job['job_id']}",
            headers=brand.headers,
            json={"content": "Spring collection is live, now with 20% off"},
        )
        assert edited.json()["status"] == "pending_approval" and edited.json()["approval_round"] == 2

        await brand.send(envelope=first_approval)  # redelivered: the same event id
        await brand.send(_decision(Approved, job, 1))  # a late decision on the old round
        records = await topic.read_until(
            lambda rs: len(events_of(rs, brand, "publishing.job_created")) >= 2, settle_s=1.0
        )
        assert [e["data"]["round"] for e in events_of(records, brand, "publishing.job_created")] == [1, 2]
        assert (await _job(client, brand, job["job_id"]))["status"] == "pending_approval"

        await brand.send(_decision(Approved, job, 2))
        await eventually(scheduled, what="scheduled after the second approval")
