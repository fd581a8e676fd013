"""Bad input answers with problem+json: 401, 403, 404, 409 and 422 naming the field."""

from __future__ import annotations

import base64
import uuid

import pytest
from approval_helpers import (
    Brand,
    EventSender,
    approval_service,
    job_created,
    pending_round,
    put_policy_on_new_connection,
    service_settings,
)

pytestmark = pytest.mark.integration

VALID_RULE = {"name": "r", "levels": [{"after_hours": 4, "notify_roles": ["admin"]}]}


async def test_http_errors(infra, topics, scratch_schema, smtp):
    _, port = smtp
    brand, other = Brand(), Brand()
    admin = brand.headers("ada", "admin")
    async with (
        approval_service(scratch_schema, infra.kafka_bootstrap, service_settings(port)) as svc,
        svc.client() as http,
        EventSender(infra.kafka_bootstrap) as events,
    ):
        unknown = uuid.uuid4()
        missing = await http.get(f"/v1/approvals/{unknown}", headers=admin)
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
        assert (
            await http.post(f"/v1/approvals/{unknown}/decision", headers=admin, json={"decision": "approve"})
        ).status_code == 404
        assert (await http.get(f"/v1/approvals/{unknown}")).status_code == 401

        invalid = await http.post(
            "/v1/escalation-rules",
            headers=admin,
            json={"name": "r", "levels": [{"after_hours": 0, "notify_roles": ["admin"]}]},
        )
        assert invalid.status_code == 422
        assert [e["field"] for e in invalid.json()["errors"]] == ["levels.0.after_hours"]
        # A cursor we did not issue is 400 naming the field, whatever it decodes to; never a 500.
        for cursor in (
            "garbage",
            base64.urlsafe_b64encode(b'["not a time", "x"]').decode(),
            base64.urlsafe_b64encode(b"[1, 2]").decode(),
            base64.urlsafe_b64encode(b'{"a": 1}').decode(),
        ):
            for path in ("/v1/approvals", "/v1/audit-logs"):
                bad = await http.get(path, headers=admin, params={"cursor": cursor})
                assert bad.status_code == 400, (path, cursor, bad.text)
                assert bad.json()["errors"][0]["field"] == "cursor"
        huge = await http.get("/v1/approvals", headers=admin, params={"min_age_hours": "1e9"})
        assert huge.status_code == 422 and huge.json()["errors"][0]["field"] == "query.min_age_hours"
        bad_decision = await http.post(
            f"/v1/approvals/{unknown}/decision", headers=admin, json={"decision": "maybe"}
        )
        assert bad_decision.status_code == 422 and bad_decision.json()["errors"][0]["field"] == "decision"

        # Rules CRUD round trip; another brand cannot see the rule.
        rule = (await http.post("/v1/escalation-rules", headers=admin, json=VALID_RULE)).json()
        assert (
            await http.get(f"/v1/escalation-rules/{rule['id']}", headers=other.headers("o", "owner"))
        ).status_code == 404
        replaced = await http.put(
            f"/v1/escalation-rules/{rule['id']}", headers=admin, json={**VALID_RULE, "enabled": False}
        )
        assert replaced.status_code == 200 and replaced.json()["enabled"] is False
        assert (
            await http.post("/v1/escalation-rules", headers=brand.headers("e", "editor"), json=VALID_RULE)
        ).status_code == 403
        assert (await http.delete(f"/v1/escalation-rules/{rule['id']}", headers=admin)).status_code == 204
        assert (await http.delete(f"/v1/escalation-rules/{rule['id']}", headers=admin)).status_code == 404

        # A policy for one connection: only approvers and the named client may decide there.
        connection_id = uuid.uuid4()
        policy = await put_policy_on_new_connection(
            events,
            http,
            brand,
            admin,
            {"connection_id": str(connection_id), "approver_roles": ["approver"], "approver_users": ["vip"]},
        )
        assert policy.status_code == 200
        effective = (
            await http.get(
                "/v1/policies/effective", headers=admin, params={"connection_id": str(connection_id)}
            )
        ).json()
        assert effective == {
            "mode": "approval_required",
            "requires_approval": True,
            "approver_roles": ["approver"],
            "approver_users": ["vip"],
        }

        job_id = uuid.uuid4()
        await events.send(job_created(job_id, connection_id=connection_id), brand)
        round_ = await pending_round(http, brand, job_id)
        # Another brand's job is not found, exactly like a job that does not exist.
        assert (
            await http.get(f"/v1/jobs/{job_id}/approvals", headers=other.headers("o", "owner"))
        ).status_code == 404
        assert (await http.get(f"/v1/jobs/{uuid.uuid4()}/approvals", headers=admin)).status_code == 404
        url = f"/v1/approvals/{round_['id']}/decision"
        viewer = await http.post(url, headers=brand.headers("vic", "viewer"), json={"decision": "approve"})
        assert viewer.status_code == 403 and viewer.headers["content-type"] == "application/problem+json"
        assert (
            await http.post(url, headers=brand.headers("carl", "client"), json={"decision": "approve"})
        ).status_code == 403
        assert (
            await http.post(url, headers=other.headers("o", "owner"), json={"decision": "approve"})
        ).status_code == 404
        assert (
            await http.get(f"/v1/approvals/{round_['id']}", headers=other.headers("o", "owner"))
        ).status_code == 404
        vip = await http.post(
            url, headers=brand.headers("vip", "client"), json={"decision": "reject", "comment": "no"}
        )
        assert vip.status_code == 200 and vip.json()["decided_by"] == "vip"

        # Pending list: only what is pending, oldest first, cursor-paginated.
        pending = (await http.get("/v1/approvals", headers=admin, params={"status": "pending"})).json()
        assert pending["items"] == [] and pending["next_cursor"] is None
        assert (await http.get("/review/nonsense")).status_code == 404
