"""A post for 09:00 Europe/Berlin on the day clocks go forward goes out at 09:00 local (07:00 UTC)."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from aligned_testing.kafka_reader import TopicReader
from aligned_testing.publishing import events_of, job_body

pytestmark = pytest.mark.integration
TOPIC = "aligned.publishing.events"


async def test_nine_local_on_the_spring_forward_day_goes_out_at_nine_local(svc, brand, infra):
    svc.clock.set(datetime(2026, 3, 28, 12, 0, tzinfo=UTC))  # the day before: 09:00 is then UTC+1, not UTC+2
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:
        job = (await client.post("/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox))).json()
        scheduled = await client.post(
            f"/v1/jobs/{job['job_id']}/schedule",
            headers=brand.headers,
            json={"scheduled_at": "2026-03-29T09:00:00", "time_zone": "Europe/Berlin"},
        )
        assert scheduled.status_code == 200, scheduled.text
        body = scheduled.json()
        assert datetime.fromisoformat(body["scheduled_at"]) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
        assert body["scheduled_local"] == "2026-03-29T09:00:00+02:00" and body["time_zone"] == "Europe/Berlin"

        svc.clock.set(
            datetime(2026, 3, 29, 6, 59, 58, tzinfo=UTC)
        )  # 08:59:58 local (a naive +1 h would fire)
        await asyncio.sleep(0.5)
        assert not events_of(
            await topic.read_until(lambda rs: True, settle_s=0.2), brand, "publishing.attempt_requested"
        )

        svc.clock.set(datetime(2026, 3, 29, 7, 0, 1, tzinfo=UTC))
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.attempt_requested"), settle_s=0
        )
        attempt = events_of(records, brand, "publishing.attempt_requested")[0]
        detail = (await client.get(f"/v1/jobs/{job['job_id']}", headers=brand.headers)).json()
    assert attempt["data"]["job_id"] == job["job_id"]
    started = datetime.fromisoformat(detail["attempts"][0]["started_at"])
    assert timedelta(0) <= started - datetime(2026, 3, 29, 7, 0, tzinfo=UTC) < timedelta(minutes=1)


async def test_a_local_time_the_clocks_skip_is_refused_naming_the_field(svc, brand):
    svc.clock.set(datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    async with svc.client() as client:
        job = (await client.post("/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox))).json()
        response = await client.post(
            f"/v1/jobs/{job['job_id']}/schedule",
            headers=brand.headers,
            json={"scheduled_at": "2026-03-29T02:30:00", "time_zone": "Europe/Berlin"},
        )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "scheduled_at"
