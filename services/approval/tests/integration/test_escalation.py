"""Escalation: each level fires exactly once with two service replicas; quiet hours defer."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

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

from aligned_common.events.gateway import BrandCreated
from aligned_testing.kafka_reader import TopicReader

pytestmark = pytest.mark.integration

HOUR_S = 0.5  # one rule "hour" lasts half a second in this test


def two_levels() -> dict:
    return {
        "name": "slow client",
        "levels": [
            {"after_hours": 1, "notify_addresses": ["lead@agency.example.com"]},
            {"after_hours": 1, "notify_roles": ["admin"]},
        ],
    }


async def test_escalation_fires_once_per_level_with_two_replicas(infra, topics, scratch_schema, smtp):
    inbox, port = smtp
    loud, quiet = Brand(), Brand()
    settings = lambda: service_settings(port, escalation_hour_s=HOUR_S, escalation_interval_s=0.05)  # noqa: E731
    async with (
        approval_service(scratch_schema, infra.kafka_bootstrap, settings()) as one,
        approval_service(scratch_schema, infra.kafka_bootstrap, settings(), first_replica=False) as two,
        one.client() as http,
        two.client() as http_two,
        EventSender(infra.kafka_bootstrap) as events,
        TopicReader(infra.kafka_bootstrap, "aligned.approval.events") as reader,
    ):
        # The quiet brand is in Tokyo and its quiet hours are "now" there.
        tokyo_now = datetime.now(ZoneInfo("Asia/Tokyo"))
        quiet_hours = {
            "start": (tokyo_now - timedelta(hours=1)).strftime("%H:%M"),
            "end": (tokyo_now + timedelta(hours=2)).strftime("%H:%M"),
        }
        await events.send(BrandCreated(name="Quiet Co", time_zone="Asia/Tokyo"), quiet)
        await add_members(events, http, quiet, {"q": ("q@client.example.com", "approver")})
        await add_members(events, http, loud, {"ada": ("ada@agency.example.com", "admin")})
        for brand, extra in ((loud, {}), (quiet, {"quiet_hours": quiet_hours})):
            created = await http.post(
                "/v1/escalation-rules", headers=brand.headers("ada", "admin"), json={**two_levels(), **extra}
            )
            assert created.status_code == 201, created.text

        loud_job, quiet_job = uuid.uuid4(), uuid.uuid4()
        await events.send(job_created(loud_job), loud)
        await events.send(job_created(quiet_job), quiet)
        loud_round = await pending_round(http, loud, loud_job)
        quiet_round = await pending_round(http, quiet, quiet_job)

        admin = loud.headers("ada", "admin")

        async def both_levels_fired() -> list:
            fired = (await http_two.get(f"/v1/approvals/{loud_round['id']}", headers=admin)).json()[
                "escalations"
            ]
            return fired if len(fired) >= 2 else []

        await eventually(both_levels_fired, timeout_s=30)
        records = await reader.read_until(
            lambda recs: len(_escalated(recs, loud_round["id"])) >= 2, settle_s=1.5
        )
        assert sorted(e["data"]["level"] for e in _escalated(records, loud_round["id"])) == [1, 2]
        detail = (await http.get(f"/v1/approvals/{loud_round['id']}", headers=admin)).json()
        assert sorted(e["level"] for e in detail["escalations"]) == [1, 2]
        assert [(h["level"], h["step"]) for h in detail["escalation_history"]] == [(1, "fired"), (2, "fired")]

        async def mailed() -> bool:
            return inbox.to("lead@agency.example.com") and inbox.to("ada@agency.example.com")

        await eventually(mailed)
        assert [m["Subject"] for m in inbox.to("lead@agency.example.com")] == [
            "Reminder: a post is still waiting for approval"
        ]
        assert [m["Subject"] for m in inbox.to("ada@agency.example.com")] == [
            "Escalation (level 2): a post is still waiting for approval"
        ]

        # Quiet hours: due, but deferred and recorded, not fired.
        quiet_admin = quiet.headers("ada", "admin")

        async def deferred() -> list:
            history = (await http.get(f"/v1/approvals/{quiet_round['id']}", headers=quiet_admin)).json()[
                "escalation_history"
            ]
            return [h for h in history if h["step"] == "deferred_quiet_hours"]

        assert (await eventually(deferred))[0]["level"] == 1
        quiet_detail = (await http.get(f"/v1/approvals/{quiet_round['id']}", headers=quiet_admin)).json()
        assert quiet_detail["escalations"] == []
        assert _escalated(reader.records, quiet_round["id"]) == []

        # A decision resolves the fired levels.
        decided = await http.post(
            f"/v1/approvals/{loud_round['id']}/decision", headers=admin, json={"decision": "approve"}
        )
        assert decided.status_code == 200
        history = (await http.get(f"/v1/approvals/{loud_round['id']}", headers=admin)).json()[
            "escalation_history"
        ]
        assert sorted((h["level"], h["step"]) for h in history) == [
            (1, "fired"),
            (1, "resolved"),
            (2, "fired"),
            (2, "resolved"),
        ]


def _escalated(records, approval_id: str) -> list[dict]:
    envelopes = [orjson.loads(r.value) for r in records]
    return [
        e for e in envelopes if e["type"] == "approval.escalated" and e["data"]["approval_id"] == approval_id
    ]
