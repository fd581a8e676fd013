"""Publishing's own copies of approval's policies and connections' accounts, built from their
events: the gate and the reference check never ask another service."""

import asyncio
import uuid
from datetime import timedelta

import pytest

from aligned_common.events.approval import Approved, PolicyChanged, PolicyDeleted
from aligned_common.events.connections import Connected, Disconnected
from aligned_testing.kafka_reader import TopicReader
from aligned_testing.polling import eventually
from aligned_testing.publishing import events_of, job_body

pytestmark = pytest.mark.integration
TOPIC = "aligned.publishing.events"


async def _job(client, brand, job_id):
    return (await client.get(f"/v1/jobs/{job_id}", headers=brand.headers)).json()


async def _until(client, brand, job_id, status):
    async def reached():
        job = await _job(client, brand, job_id)
        return job if job["status"] == status else None

    return await eventually(reached, what=f"job {status}")


async def test_a_policy_event_sends_a_scheduled_job_back_and_a_redelivery_changes_nothing(svc, brand, infra):
    due = svc.clock.now() + timedelta(hours=1)
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:
        job = (
            await client.post(
                "/v1/jobs",
                headers=brand.headers,
                json=job_body(
                    brand.sandbox,
                    scheduled_at=due.isoformat(),
                    targets=[
                        {"platform": "sandbox", "connection_id": str(brand.sandbox), "text": "own words"}
                    ],
                ),
            )
        ).json()
        assert (await client.post(f"/v1/jobs/{job['job_id']}/submit", headers=brand.headers)).json()[
            "status"
        ] == "scheduled"

        policy = PolicyChanged(
            policy_id=uuid.uuid4(),
            connection_id=brand.sandbox,
            mode="approval_required",
            changed_by="owner-1",
        )
        sent = await brand.send(policy)
        moved = await _until(client, brand, job["job_id"], "pending_approval")
        assert str(policy.policy_id) in moved["approval_reason"] and moved["approval_round"] == 2
        assert all(t["status"] == "waiting" for t in moved["targets"])

        await brand.send(envelope=sent)  # redelivered
        records = await topic.read_until(
            lambda rs: len(events_of(rs, brand, "publishing.job_created")) >= 2, settle_s=1.0
        )
        rounds = events_of(records, brand, "publishing.job_created")
        assert [e["data"]["round"] for e in rounds] == [1, 2]
        asked = rounds[1]["data"]
        assert asked["requires_approval"] is True and asked["content_hash"] == moved["content_hash"]
        assert (
            asked["targets"][0]["text"] == "own words" and str(policy.policy_id) in asked["approval_reason"]
        )

        await brand.send(PolicyDeleted(policy_id=policy.policy_id, deleted_by="owner-1"))

        async def ungated():
            fresh = (
                await client.post("/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox))
            ).json()
            return fresh if not fresh["approval_required"] else None

        await eventually(ungated, what="the policy gone from publishing's copy")


async def test_an_approval_of_other_content_opens_nothing_and_the_dispatcher_rechecks(svc, brand, infra):
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:
        job = (
            await client.post(
                "/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox, requires_approval=True)
            )
        ).json()
        submitted = (await client.post(f"/v1/jobs/{job['job_id']}/submit", headers=brand.headers)).json()
        decision = {
            "approval_id": uuid.uuid4(),
            "job_id": job["job_id"],
            "round": 1,
            "decided_by": "client-9",
        }
        await brand.send(Approved(**decision, content_hash="0" * 64))  # not what the round showed
        await asyncio.sleep(1.0)
        assert (await _job(client, brand, job["job_id"]))["status"] == "pending_approval"

        await brand.send(Approved(**decision, content_hash=submitted["content_hash"]))
        assert (await _until(client, brand, job["job_id"], "ready"))["approved"] is True

        due = svc.clock.now() + timedelta(minutes=10)
        scheduled = await client.post(
            f"/v1/jobs/{job['job_id']}/schedule",
            headers=brand.headers,
            json={"scheduled_at": due.isoformat()},
        )
        assert scheduled.json()["status"] == "scheduled"

        # Behind the commands' back, what would go out changes: the dispatcher does not send it.
        table = f'"{svc.ctx.schema}".publishing_jobs'
        await svc.ctx.pool.execute(
            f"UPDATE {table} SET content_hash = $2 WHERE job_id = $1", uuid.UUID(job["job_id"]), "f" * 64
        )
        svc.clock.advance(timedelta(minutes=11))
        await asyncio.sleep(0.5)  # ten dispatcher ticks
        records = await topic.read_until(lambda rs: True, settle_s=0.3)
        assert not events_of(records, brand, "publishing.attempt_requested")

        await svc.ctx.pool.execute(
            f"UPDATE {table} SET content_hash = approved_hash WHERE job_id = $1", uuid.UUID(job["job_id"])
        )
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.attempt_requested"), settle_s=0
        )
        assert events_of(records, brand, "publishing.attempt_requested")


async def test_a_waiver_is_for_the_roles_the_policy_names_and_is_announced(svc, brand, infra):
    editor, owner = brand.as_role("editor"), brand.as_role("owner")
    await brand.send(PolicyChanged(policy_id=uuid.uuid4(), mode="approval_required", changed_by="owner-1"))
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:

        async def gated():
            fresh = (
                await client.post("/v1/jobs", headers=editor.headers, json=job_body(brand.sandbox))
            ).json()
            return fresh if fresh["approval_required"] else None

        job = await eventually(gated, what="the policy in publishing's copy")
        await client.post(f"/v1/jobs/{job['job_id']}/submit", headers=editor.headers)
        refused = (
            await client.patch(
                f"/v1/jobs/{job['job_id']}", headers=editor.headers, json={"requires_approval": False}
            )
        ).json()
        assert (
            refused["status"] == "pending_approval"
            and "only admin, owner may waive" in refused["approval_note"]
        )

        waived = (
            await client.patch(
                f"/v1/jobs/{job['job_id']}", headers=owner.headers, json={"requires_approval": False}
            )
        ).json()
        assert waived["status"] == "ready" and waived["approval_waived_by"] == "owner-1"
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.approval_waived"), settle_s=0
        )
        (event,) = events_of(records, brand, "publishing.approval_waived")
        assert (
            event["data"]["waived_by"] == "owner-1"
            and event["data"]["content_hash"] == waived["content_hash"]
        )

        # The waiver covers that content only: an editor's later change asks again.
        edited = (
            await client.patch(
                f"/v1/jobs/{job['job_id']}", headers=editor.headers, json={"content": "something else"}
            )
        ).json()
        assert edited["status"] == "pending_approval" and edited["approved"] is False


async def test_connections_events_make_an_account_usable_and_a_disconnect_refuses_it(svc, brand):
    connection = uuid.uuid4()
    async with svc.client() as client:
        unknown = await client.post("/v1/jobs", headers=brand.headers, json=job_body(connection))
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["code"] == "unknown_connection"
        await brand.send(Connected(connection_id=connection, platform="sandbox", account_name="shop"))

        async def usable():
            created = await client.post("/v1/jobs", headers=brand.headers, json=job_body(connection))
            return created if created.status_code == 201 else None

        await eventually(usable, what="the connection in publishing's copy")
        await brand.send(Disconnected(connection_id=connection, platform="sandbox"))

        async def refused():
            answer = await client.post("/v1/jobs", headers=brand.headers, json=job_body(connection))
            return answer if answer.status_code == 422 else None

        answer = await eventually(refused, what="the disconnect in publishing's copy")
        assert answer.json()["errors"] == [
            {
                "field": "targets[0].connection_id",
                "code": "connection_disconnected",
                "message": f"connection {connection} was disconnected",
            }
        ]


async def test_a_job_waiting_only_for_a_deleted_policy_waits_until_its_author_publishes_it(svc, brand, infra):
    policy = PolicyChanged(policy_id=uuid.uuid4(), mode="approval_required", changed_by="owner-1")
    await brand.send(policy)
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:

        async def gated():
            fresh = (
                await client.post("/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox))
            ).json()
            return fresh if fresh["approval_required"] else None

        job = await eventually(gated, what="the policy in publishing's copy")
        assert (await client.post(f"/v1/jobs/{job['job_id']}/submit", headers=brand.headers)).json()[
            "status"
        ] == "pending_approval"
        await brand.send(PolicyDeleted(policy_id=policy.policy_id, deleted_by="owner-1"))

        async def relaxed():
            current = await _job(client, brand, job["job_id"])
            return current if not current["approval_required"] else None

        waiting = await eventually(relaxed, what="the job re-assessed")
        assert waiting["status"] == "pending_approval"  # its round stays open: nothing goes out by itself
        released = (await client.post(f"/v1/jobs/{job['job_id']}/publish-now", headers=brand.headers)).json()
        assert released["status"] in ("scheduled", "publishing")
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.attempt_requested"), settle_s=0
        )
        assert events_of(records, brand, "publishing.attempt_requested")[0]["data"]["job_id"] == job["job_id"]


async def test_jobs_created_while_a_policy_arrives_are_all_gated(svc, brand):
    """Without the brand's gate lock a job committed while the policy event commits could see
    neither the other (each reads before the other's commit): it would stay ungated."""
    async with svc.client() as client:

        async def create() -> str:
            return (
                await client.post("/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox))
            ).json()["job_id"]

        async def stream(n: int) -> list[str]:
            made = []
            for _ in range(n):
                made.append(await create())
            return made

        sending = asyncio.create_task(
            brand.send(PolicyChanged(policy_id=uuid.uuid4(), mode="approval_required", changed_by="owner-1"))
        )
        batches = await asyncio.gather(*(stream(15) for _ in range(4)))
        await sending

        async def projected():
            return (await _job(client, brand, await create()))["approval_required"]

        await eventually(projected, what="the policy in publishing's copy")
        jobs = [await _job(client, brand, job_id) for batch in batches for job_id in batch]
    assert [j["job_id"] for j in jobs if not j["approval_required"]] == []
