"""From publishing.job_created to each decision, through the real broker and database."""

from __future__ import annotations

import asyncio
import uuid

import orjson
import pytest
from approval_helpers import (
    Brand,
    EventSender,
    add_members,
    approval_service,
    eventually,
    job_created,
    pending_round,
    service_settings,
)

from aligned_common.events.publishing import JobCancelled, JobUpdated
from aligned_testing.kafka_reader import TopicReader

pytestmark = pytest.mark.integration

APPROVAL_TOPIC = "aligned.approval.events"


def decisions_for(records, approval_ids: set[str]) -> list[dict]:
    envelopes = [orjson.loads(r.value) for r in records]
    return [
        e
        for e in envelopes
        if e["data"].get("approval_id") in approval_ids and e["type"] != "approval.escalated"
    ]


async def test_job_created_to_approved_rejected_and_changes_requested(infra, topics, scratch_schema, smtp):
    inbox, port = smtp
    brand = Brand()
    async with (
        approval_service(scratch_schema, infra.kafka_bootstrap, service_settings(port)) as svc,
        svc.client() as http,
        EventSender(infra.kafka_bootstrap) as events,
        TopicReader(infra.kafka_bootstrap, APPROVAL_TOPIC) as reader,
    ):
        await add_members(
            events,
            http,
            brand,
            {"rita": ("rita@client.example.com", "approver"), "alex": ("alex@agency.example.com", "editor")},
        )
        no_approval_job, *jobs = (uuid.uuid4() for _ in range(4))
        await events.send(job_created(no_approval_job, requires_approval=False), brand)
        for job_id in jobs:
            await events.send(job_created(job_id, content=f"post {job_id}"), brand)
        rounds = [await pending_round(http, brand, job_id) for job_id in jobs]
        assert all(r["status"] == "pending" and r["round"] == 1 for r in rounds)
        # Same partition as the others and sent first: had it opened a round, it would show by now.
        none = await http.get(f"/v1/jobs/{no_approval_job}/approvals", headers=brand.headers("u", "admin"))
        assert none.json()["items"] == []

        rita = brand.headers("rita", "approver")
        outcomes = {}
        for round_, decision in zip(rounds, ("approve", "reject", "request_changes"), strict=True):
            response = await http.post(
                f"/v1/approvals/{round_['id']}/decision",
                headers=rita,
                json={"decision": decision, "comment": f"{decision} because"},
            )
            assert response.status_code == 200, response.text
            outcomes[round_["id"]] = response.json()["status"]
        assert sorted(outcomes.values()) == ["approved", "changes_requested", "rejected"]

        # The round is locked: a second decision and an edit are both 409.
        again = await http.post(
            f"/v1/approvals/{rounds[0]['id']}/decision", headers=rita, json={"decision": "reject"}
        )
        assert again.status_code == 409 and again.json()["status_now"] == "approved"
        edit = await http.patch(
            f"/v1/approvals/{rounds[0]['id']}", headers=brand.headers("alex", "editor"), json={"note": "x"}
        )
        assert edit.status_code == 409

        ids = {r["id"] for r in rounds}
        records = await reader.read_until(lambda recs: len(decisions_for(recs, ids)) >= 3, timeout_s=30)
        emitted = decisions_for(records, ids)
        assert sorted(e["type"] for e in emitted) == [
            "approval.approved",
            "approval.changes_requested",
            "approval.rejected",
        ]
        assert {e["data"]["decided_by"] for e in emitted} == {"rita"}
        assert {e["data"]["job_id"] for e in emitted} == {str(j) for j in jobs}

        # Reviewer asked by mail, author told of each decision.
        async def mailed() -> bool:
            return (
                len(inbox.to("rita@client.example.com")) >= 3
                and len(inbox.to("alex@agency.example.com")) >= 3
            )

        await eventually(mailed)
        assert all("Approval requested" in m["Subject"] for m in inbox.to("rita@client.example.com"))
        assert sorted(m["Subject"] for m in inbox.to("alex@agency.example.com")) == [
            "Your post was approved",
            "Your post was rejected",
            "Your post was sent back for changes",
        ]

        # The author resubmits after changes: a new round, the old one kept as history.
        changed_job = uuid.UUID(
            emitted[[e["type"] for e in emitted].index("approval.changes_requested")]["data"]["job_id"]
        )
        await events.send(
            JobUpdated(job_id=changed_job, status="pending_approval", content="second try"), brand
        )
        round_two = await pending_round(http, brand, changed_job, round_no=2)
        assert (round_two["status"], round_two["content"]) == ("pending", "second try")
        history = (await http.get(f"/v1/approvals/{round_two['id']}", headers=rita)).json()["rounds"]
        assert [(r["round"], r["status"]) for r in history] == [(1, "changes_requested"), (2, "pending")]

        # Cancelling the job closes its open round; deciding it afterwards is refused.
        await events.send(JobCancelled(job_id=changed_job, reason="campaign dropped"), brand)

        async def cancelled() -> bool:
            response = await http.get(f"/v1/approvals/{round_two['id']}", headers=rita)
            return response.json()["status"] == "cancelled"

        await eventually(cancelled)
        late = await http.post(
            f"/v1/approvals/{round_two['id']}/decision", headers=rita, json={"decision": "approve"}
        )
        assert late.status_code == 409


async def test_concurrent_decisions_exactly_one_wins(infra, topics, scratch_schema, smtp):
    _, port = smtp
    brand = Brand()
    async with (
        approval_service(scratch_schema, infra.kafka_bootstrap, service_settings(port)) as svc,
        svc.client() as http,
        EventSender(infra.kafka_bootstrap) as events,
        TopicReader(infra.kafka_bootstrap, APPROVAL_TOPIC) as reader,
    ):
        job_id = uuid.uuid4()
        await events.send(job_created(job_id), brand)
        round_ = await pending_round(http, brand, job_id)
        choices = ["approve", "reject", "request_changes"] * 4
        responses = await asyncio.gather(
            *(
                http.post(
                    f"/v1/approvals/{round_['id']}/decision",
                    headers=brand.headers(f"client{i}", "client"),
                    json={"decision": choice},
                )
                for i, choice in enumerate(choices)
            )
        )
        codes = sorted(r.status_code for r in responses)
        assert codes == [200] + [409] * (len(choices) - 1)
        winner = next(r.json() for r in responses if r.status_code == 200)
        records = await reader.read_until(
            lambda recs: decisions_for(recs, {round_["id"]}), timeout_s=30, settle_s=2.0
        )
        emitted = decisions_for(records, {round_["id"]})
        assert len(emitted) == 1
        assert emitted[0]["data"]["decided_by"] == winner["decided_by"]
        stored = (
            await http.get(f"/v1/approvals/{round_['id']}", headers=brand.headers("x", "viewer"))
        ).json()
        assert (stored["status"], stored["decided_by"]) == (winner["status"], winner["decided_by"])
