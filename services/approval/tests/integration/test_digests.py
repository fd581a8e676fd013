"""The daily limit and digests on the real database and broker: what is over the limit is held,
then folded into exactly one digest per period, whichever replicas tick and how often."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from approval_helpers import (
    Brand,
    EventSender,
    add_members,
    approval_service,
    body_of,
    eventually,
    job_created,
    service_settings,
)

from aligned_approval.service_layer import digest
from aligned_common.events.publishing import JobFailed

pytestmark = pytest.mark.integration

RITA = "rita@client.example.com"


async def statuses(http, brand: Brand) -> list[str]:
    answer = await http.get(f"/v1/client-settings/{RITA}/mails", headers=brand.headers("ada", "admin"))
    assert answer.status_code == 200, answer.text
    return sorted(m["status"] for m in answer.json()["items"] if m["kind"] != "digest")


async def test_mails_over_the_daily_limit_fold_into_one_digest_per_period(
    infra, topics, scratch_schema, smtp
):
    inbox, port = smtp
    brand = Brand()
    # The loop's own ticks run far apart; the test ticks with its own clock.
    settings = lambda: service_settings(port, digest_interval_s=3600)  # noqa: E731
    async with (
        approval_service(scratch_schema, infra.kafka_bootstrap, settings()) as one,
        approval_service(scratch_schema, infra.kafka_bootstrap, settings(), first_replica=False) as two,
        one.client() as http,
        EventSender(infra.kafka_bootstrap) as events,
    ):
        await add_members(events, http, brand, {"rita": (RITA, "approver")})
        admin = brand.headers("ada", "admin")
        chosen = await http.put(
            f"/v1/client-settings/{RITA}",
            headers=admin,
            json={"time_zone": "Europe/Berlin", "language": "de", "preferences": {"maxEmailsPerDay": 2}},
        )
        assert chosen.status_code == 200, chosen.text
        assert chosen.json()["preferences"]["max_emails_per_day"] == 2 and chosen.json()["language"] == "de"

        jobs = [uuid.uuid4() for _ in range(3)]
        for job_id in jobs:
            await events.send(job_created(job_id, content=f"Beitrag {job_id.hex[:6]}"), brand)
        await events.send(JobFailed(job_id=jobs[0], reason="platform said no"), brand)

        async def settled() -> list[str] | None:
            found = await statuses(http, brand)
            return found if len(found) == 4 and "pending" not in found else None

        # Two approval requests go out; the third and the failure notice are over the limit.
        assert await eventually(settled) == ["held", "held", "sent", "sent"]
        assert len(inbox.to(RITA)) == 2

        # Before 08:00 in Berlin nothing is due; from 08:00 on one digest, even from two replicas at once.
        early, due = datetime.now(UTC).replace(hour=6, minute=0), datetime.now(UTC).replace(hour=7, minute=5)
        assert await digest.tick(one.ctx.deps.uows, hour=8, now=early) == 0
        ticks = await asyncio.gather(
            digest.tick(one.ctx.deps.uows, hour=8, now=due, base_url="http://gateway.test"),
            digest.tick(two.ctx.deps.uows, hour=8, now=due, base_url="http://gateway.test"),
        )
        assert sum(ticks) == 1
        assert await digest.tick(one.ctx.deps.uows, hour=8, now=due.replace(hour=20)) == 0  # same day

        async def digested():
            mails = [m for m in inbox.to(RITA) if "Zusammenfassung" in m["Subject"]]
            return mails or None

        [mail] = await eventually(digested)
        body = body_of(mail)
        held = [
            m
            for m in (await http.get(f"/v1/client-settings/{RITA}/mails", headers=admin)).json()["items"]
            if m["status"] == "folded"
        ]
        assert len(held) == 2 and {m["folded_into"] for m in held} == {
            next(
                m["id"]
                for m in (await http.get(f"/v1/client-settings/{RITA}/mails", headers=admin)).json()["items"]
                if m["kind"] == "digest"
            )
        }
        for m in held:  # nothing lost: each held mail is in the digest in full
            assert m["subject"] in body
        assert "platform said no" in body and "Limits von 2 E-Mails pro Tag" in body
        assert "List-Unsubscribe" in mail  # a digest can be stopped like any other kind


async def test_reminders_follow_each_clients_reminder_frequency(infra, topics, scratch_schema, smtp):
    inbox, port = smtp
    brand = Brand()
    ruth, rosa = "ruth@client.example.com", "rosa@client.example.com"
    async with (
        approval_service(
            scratch_schema,
            infra.kafka_bootstrap,
            service_settings(port, escalation_hour_s=0.5, escalation_interval_s=0.05),
        ) as svc,
        svc.client() as http,
        EventSender(infra.kafka_bootstrap) as events,
    ):
        await add_members(events, http, brand, {"ruth": (ruth, "approver"), "rosa": (rosa, "approver")})
        admin = brand.headers("ada", "admin")
        for who, frequency in ((ruth, "daily"), (rosa, "every")):
            answer = await http.put(
                f"/v1/client-settings/{who}",
                headers=admin,
                json={"preferences": {"reminderFrequency": frequency}},
            )
            assert answer.status_code == 200, answer.text
        rule = {"name": "nudge", "levels": [{"after_hours": 1, "notify_roles": ["approver"]}]}
        assert (await http.post("/v1/escalation-rules", headers=admin, json=rule)).status_code == 201
        for _ in range(3):  # three rounds waiting: three reminders each, a half second after they opened
            await events.send(job_created(uuid.uuid4()), brand)

        async def reminded(who: str) -> list[str] | None:
            items = (await http.get(f"/v1/client-settings/{who}/mails", headers=admin)).json()["items"]
            found = sorted(m["status"] for m in items if m["kind"] == "reminder")
            return found if len(found) == 3 and "pending" not in found else None

        assert await eventually(lambda: reminded(rosa)) == ["sent", "sent", "sent"]
        assert await eventually(lambda: reminded(ruth)) == ["sent", "suppressed", "suppressed"]  # one a day
        assert len([m for m in inbox.to(ruth) if m["Subject"].startswith("Reminder")]) == 1
