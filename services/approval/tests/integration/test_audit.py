"""Audit trail: one append-only row per domain event, exactly; queryable by brand, entity, actor, time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from approval_helpers import (
    Brand,
    EventSender,
    approval_service,
    eventually,
    job_created,
    pending_round,
    service_settings,
)

from aligned_common.envelope import EventEnvelope
from aligned_common.events.analytics import GoalReached
from aligned_common.events.gateway import MemberAdded, MemberRoleChanged
from aligned_common.events.publishing import JobUpdated
from aligned_common.events.webhooks import EndpointDisabled

pytestmark = pytest.mark.integration

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_scripted_run_gives_exactly_these_audit_rows(infra, topics, scratch_schema, smtp, pg_pool):
    _, port = smtp
    brand, other_brand = Brand(), Brand()
    admin = brand.headers("ada", "admin")
    # Only events no other service reacts to for an unknown brand (connections.connected would
    # make a running analytics service request a sync, a row this script did not write).
    job_id, goal_id, endpoint_id, old_endpoint_id = (uuid.uuid4() for _ in range(4))
    async with (
        approval_service(scratch_schema, infra.kafka_bootstrap, service_settings(port)) as svc,
        svc.client() as http,
        EventSender(infra.kafka_bootstrap) as events,
    ):
        member = await events.send(
            MemberAdded(user_id="rita", email="rita@client.example.com", role="client"),
            brand,
            traceparent=f"00-{TRACE_ID}-00f067aa0ba902b7-01",
        )
        await events.send(MemberRoleChanged(user_id="rita", old_role="client", new_role="approver"), brand)
        await events.send_envelope(member)  # a redelivery adds nothing
        await events.send(job_created(job_id, content="v1"), brand)
        await events.send(JobUpdated(job_id=job_id, status="pending_approval", content="v2"), brand)
        await events.send(
            GoalReached(
                goal_id=goal_id,
                metric="likes",
                target=10,
                value=12,
                period_start="2026-01-01",
                period_end="2026-01-31",
            ),
            brand,
        )
        await events.send(
            EndpointDisabled(endpoint_id=endpoint_id, url="https://h.example.com", reason="410"), brand
        )
        # Replayed history from a month with no partition yet: the partition is created on demand.
        await events.send_envelope(
            EventEnvelope(
                type="webhooks.endpoint_disabled",
                source="webhooks",
                time=datetime(2024, 2, 10, tzinfo=UTC),
                brand_id=brand.brand_id,
                tenant_id=brand.tenant_id,
                schema_version=1,
                data=EndpointDisabled(
                    endpoint_id=old_endpoint_id, url="https://old.example.com", reason="gone"
                ).model_dump(mode="json"),
            )
        )
        await events.send(MemberAdded(user_id="zed", email="z@example.com", role="viewer"), other_brand)
        round_ = await pending_round(http, brand, job_id)
        approved = await http.post(
            f"/v1/approvals/{round_['id']}/decision",
            headers=brand.headers("rita", "approver"),
            json={"decision": "approve", "comment": "ok"},
        )
        assert approved.status_code == 200

        expected = [
            (
                "webhooks.endpoint_disabled",
                "service:webhooks",
                "webhook_endpoint",
                str(old_endpoint_id),
                None,
                None,
                None,
            ),
            (
                "gateway.member_added",
                "service:gateway",
                "member",
                "rita",
                None,
                {"role": "client", "email": "rita@client.example.com"},
                TRACE_ID,
            ),
            (
                "gateway.member_role_changed",
                "service:gateway",
                "member",
                "rita",
                {"role": "client"},
                {"role": "approver"},
                None,
            ),
            (
                "publishing.job_created",
                "alex",
                "job",
                str(job_id),
                None,
                {"status": "pending_approval", "content": "v1", "scheduled_at": None},
                None,
            ),
            (
                "publishing.job_updated",
                "service:publishing",
                "job",
                str(job_id),
                None,
                {"status": "pending_approval", "content": "v2", "scheduled_at": None},
                None,
            ),
            ("analytics.goal_reached", "service:analytics", "goal", str(goal_id), None, None, None),
            (
                "webhooks.endpoint_disabled",
                "service:webhooks",
                "webhook_endpoint",
                str(endpoint_id),
                None,
                None,
                None,
            ),
            (
                "approval.approved",
                "rita",
                "approval",
                round_["id"],
                {"status": "pending"},
                {"status": "approved"},
            ),
        ]

        async def all_rows() -> list | None:
            rows = (await http.get("/v1/audit-logs", headers=admin, params={"limit": 500})).json()["items"]
            return rows if len(rows) >= len(expected) else None

        await eventually(all_rows)
        rows = await _settled(http, admin, len(expected))
        got = [
            (
                r["action"],
                r["actor"],
                r["entity_type"],
                r["entity_id"],
                r["before"],
                r["after"],
                r["trace_id"],
            )
            for r in reversed(rows)
        ]
        assert got[-1][:6] == expected[-1] and got[-1][6] is not None  # our own event carries our trace
        assert got[:-1] == expected[:-1]
        assert len({r["event_id"] for r in rows}) == len(rows)

        # Filters: entity, actor, time range, and cursor pages that add up to the whole.
        by_job = (
            await http.get(
                "/v1/audit-logs", headers=admin, params={"entity_type": "job", "entity_id": str(job_id)}
            )
        ).json()
        assert [r["action"] for r in by_job["items"]] == ["publishing.job_updated", "publishing.job_created"]
        by_rita = (await http.get("/v1/audit-logs", headers=admin, params={"actor": "rita"})).json()
        assert [r["action"] for r in by_rita["items"]] == ["approval.approved"]
        newest = rows[0]["occurred_at"]
        later = (await http.get("/v1/audit-logs", headers=admin, params={"from": newest})).json()["items"]
        assert [r["event_id"] for r in later] == [rows[0]["event_id"]]
        paged, cursor = [], None
        while True:
            page = (
                await http.get(
                    "/v1/audit-logs",
                    headers=admin,
                    params={"limit": 3, **({"cursor": cursor} if cursor else {})},
                )
            ).json()
            paged += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert [r["event_id"] for r in paged] == [r["event_id"] for r in rows]
        other = (await http.get("/v1/audit-logs", headers=other_brand.headers("o", "owner"))).json()["items"]
        assert [r["action"] for r in other] == ["gateway.member_added"]

        # Append-only, even for the table's owner.
        async with pg_pool.acquire() as conn:
            for statement in (
                f'UPDATE "{scratch_schema}".audit_logs SET actor = $1',
                f'DELETE FROM "{scratch_schema}".audit_logs WHERE actor <> $1',
            ):
                with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                    await conn.execute(statement, "mallory")
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(f'TRUNCATE "{scratch_schema}".audit_logs')
            # (other rows may be there: the trail records every brand's live events on the shared topics)
            assert (
                await conn.fetchval(
                    f'SELECT count(*) FROM "{scratch_schema}".audit_logs WHERE brand_id = ANY($1)',
                    [brand.brand_id, other_brand.brand_id],
                )
                == len(expected) + 1
            )
            assert await conn.fetchval(
                "SELECT to_regclass($1) IS NOT NULL", f'"{scratch_schema}".audit_logs_202402'
            )
        assert (await http.get("/v1/audit-logs", headers=brand.headers("v", "viewer"))).status_code == 403


async def _settled(http, headers, expected_count: int) -> list[dict]:
    """Read twice a moment apart: a late duplicate would show as an extra row."""
    import asyncio

    await asyncio.sleep(1.0)
    rows = (await http.get("/v1/audit-logs", headers=headers, params={"limit": 500})).json()["items"]
    assert len(rows) == expected_count, [r["action"] for r in rows]
    return rows
