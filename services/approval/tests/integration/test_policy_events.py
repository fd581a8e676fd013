"""Policies go out as events (publishing decides the gate from its own copy), and a round
carries what goes out and its hash, which the decision echoes."""

from __future__ import annotations

import uuid

import orjson
import pytest
from approval_helpers import (
    Brand,
    EventSender,
    approval_service,
    eventually,
    job_created,
    pending_round,
    put_policy_on_new_connection,
    service_settings,
)

from aligned_common.events.connections import Disconnected
from aligned_common.events.publishing import JobCreated, TargetRef
from aligned_testing.kafka_reader import TopicReader

pytestmark = pytest.mark.integration

APPROVAL_TOPIC = "aligned.approval.events"


def _of(records, brand: Brand, event_type: str) -> list[dict]:
    envelopes = [orjson.loads(r.value) for r in records if r.key == str(brand.brand_id).encode()]
    return [e for e in envelopes if e["type"] == event_type]


async def test_put_and_delete_of_a_policy_go_out_through_the_outbox(infra, topics, scratch_schema, smtp):
    _, port = smtp
    brand, connection = Brand(), uuid.uuid4()
    async with (
        approval_service(scratch_schema, infra.kafka_bootstrap, service_settings(port)) as svc,
        svc.client() as http,
        TopicReader(infra.kafka_bootstrap, APPROVAL_TOPIC) as reader,
        EventSender(infra.kafka_bootstrap) as events,
    ):
        owner = brand.headers("olga", "owner")
        # Another brand's connection, one approval never heard of, and a disconnected one: 422 naming the field.
        other = Brand()
        foreign = await put_policy_on_new_connection(
            events,
            http,
            other,
            other.headers("oz", "owner"),
            {"connection_id": str(uuid.uuid4()), "mode": "full_posting"},
        )
        assert foreign.status_code == 200
        for unknown in (foreign.json()["connection_id"], str(uuid.uuid4())):
            refused = await http.put("/v1/policies", headers=owner, json={"connection_id": unknown})
            assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "connection_id"
            assert refused.json()["errors"][0]["code"] == "unknown_connection"
        # No policy yet: the author's own requires_approval decides (what publishing enforces).
        none = (
            await http.get("/v1/policies/effective", headers=owner, params={"connection_id": str(connection)})
        ).json()
        assert none["mode"] is None and none["requires_approval"] is False
        put = await put_policy_on_new_connection(
            events,
            http,
            brand,
            owner,
            {"connection_id": str(connection), "mode": "approval_required", "waiver_roles": ["owner"]},
        )
        assert put.status_code == 200, put.text
        policy = put.json()
        assert policy["waiver_roles"] == ["owner"]
        effective = (
            await http.get("/v1/policies/effective", headers=owner, params={"connection_id": str(connection)})
        ).json()
        assert effective["mode"] == "approval_required" and effective["requires_approval"] is True
        bad = await http.put("/v1/policies", headers=owner, json={"waiver_roles": ["client"]})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("waiver_roles")
        editor = await http.put(
            "/v1/policies", headers=brand.headers("eddie", "editor"), json={"mode": "full_posting"}
        )
        assert editor.status_code == 403
        assert (await http.delete(f"/v1/policies/{policy['id']}", headers=owner)).status_code == 204
        await events.send(
            Disconnected(connection_id=connection, platform="sandbox"), brand, subject=str(connection)
        )

        async def refused_once_disconnected():
            refused = await http.put("/v1/policies", headers=owner, json={"connection_id": str(connection)})
            return refused.json()["errors"][0] if refused.status_code == 422 else None

        error = await eventually(refused_once_disconnected)
        assert error["field"] == "connection_id" and error["code"] == "connection_disconnected"

        records = await reader.read_until(lambda rs: _of(rs, brand, "approval.policy_deleted"), settle_s=0.5)
    # The first: a PUT that raced the disconnect's event may have made another (refused after it).
    changed, *_ = _of(records, brand, "approval.policy_changed")
    assert changed["subject"] == str(policy["id"])
    assert {
        k: changed["data"][k]
        for k in ("policy_id", "connection_id", "user_id", "mode", "waiver_roles", "changed_by")
    } == {
        "policy_id": str(policy["id"]),
        "connection_id": str(connection),
        "user_id": None,
        "mode": "approval_required",
        "waiver_roles": ["owner"],
        "changed_by": "olga",
    }
    (deleted,) = _of(records, brand, "approval.policy_deleted")
    assert deleted["data"] == {
        "policy_id": str(policy["id"]),
        "deleted_by": "olga",
        "previous": {  # for the audit trail
            "mode": "approval_required",
            "approver_roles": ["approver", "client"],
            "approver_users": [],
            "waiver_roles": ["owner"],
        },
    }


async def test_a_round_shows_every_targets_text_and_media_and_the_decision_names_its_hash(
    infra, topics, scratch_schema, smtp
):
    _, port = smtp
    brand, job_id, media = Brand(), uuid.uuid4(), uuid.uuid4()
    async with (
        approval_service(scratch_schema, infra.kafka_bootstrap, service_settings(port)) as svc,
        svc.client() as http,
        EventSender(infra.kafka_bootstrap) as events,
        TopicReader(infra.kafka_bootstrap, APPROVAL_TOPIC) as reader,
    ):
        base = job_created(job_id)
        targets = [
            TargetRef(
                target_id=uuid.uuid4(), platform="mastodon", connection_id=uuid.uuid4(), text="own words"
            ),
            TargetRef(
                target_id=uuid.uuid4(),
                platform="sandbox",
                connection_id=uuid.uuid4(),
                text=base.content,
                media_ids=[media],
            ),
        ]
        await events.send(
            JobCreated(**(base.model_dump() | {"targets": targets, "content_hash": "a" * 64})), brand
        )
        round_ = await pending_round(http, brand, job_id)
        assert round_["content_hash"] == "a" * 64
        assert [(t["text"], t["media_ids"]) for t in round_["targets"]] == [
            ("own words", []),
            (base.content, [str(media)]),
        ]

        decided = await http.post(
            f"/v1/approvals/{round_['id']}/decision",
            headers=brand.headers("olga", "owner"),
            json={"decision": "approve"},
        )
        assert decided.status_code == 200, decided.text
        records = await reader.read_until(lambda rs: _of(rs, brand, "approval.approved"), settle_s=0)
    (approved,) = _of(records, brand, "approval.approved")
    assert approved["data"]["content_hash"] == "a" * 64
