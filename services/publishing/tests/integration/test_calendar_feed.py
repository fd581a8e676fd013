"""Calendar feeds on the real PostgreSQL: a feed made over HTTP serves its brand's scheduled
posts as RFC 5545 (parsed back) at its public path without identity headers, found by its
token across brands (the worker's lookup) but showing only its own brand's jobs (row-level
security); revoked, the same URL is a 404 problem."""

from datetime import timedelta

import pytest
from icalendar import Calendar

from aligned_testing.publishing import Brand

pytestmark = pytest.mark.integration


async def test_a_feed_serves_its_brands_schedule_until_revoked(svc, brand, producer):
    other = Brand(producer)
    other.sandbox = await other.connect(svc)
    at = (svc.clock.now() + timedelta(days=2)).replace(microsecond=0).isoformat()
    async with svc.client() as client:
        for who, text in ((brand, "ours, on the calendar"), (other, "theirs, not on it")):
            made = await client.post(
                "/v1/jobs",
                headers=who.headers,
                json={
                    "content": text,
                    "targets": [{"platform": "sandbox", "connection_id": str(who.sandbox)}],
                    "scheduled_at": at,
                },
            )
            assert made.status_code == 201, made.text
            job_id = made.json()["job_id"]
            assert (await client.post(f"/v1/jobs/{job_id}/submit", headers=who.headers)).status_code == 200
        await client.post("/v1/calendar-feeds", headers=other.headers)  # a feed of the other brand too

        created = await client.post("/v1/calendar-feeds", headers=brand.headers, json={"scope": "brand"})
        assert created.status_code == 201, created.text
        feed = created.json()
        listed = (await client.get("/v1/calendar-feeds", headers=brand.headers)).json()
        assert [f["feed_id"] for f in listed] == [feed["feed_id"]] and "url" not in listed[0]

        answer = await client.get(feed["url"])  # no identity headers: the token is the credential
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
        events = Calendar.from_ical(answer.content).walk("VEVENT")
        assert [str(e["SUMMARY"]) for e in events] == ["[scheduled] ours, on the calendar"]
        (ours,) = (await client.get("/v1/jobs", headers=brand.headers)).json()["items"]
        assert str(events[0]["UID"]) == f"{ours['job_id']}@aligned"

        other_try = await client.delete(f"/v1/calendar-feeds/{feed['feed_id']}", headers=other.headers)
        assert other_try.status_code == 404
        revoked = await client.delete(f"/v1/calendar-feeds/{feed['feed_id']}", headers=brand.headers)
        assert revoked.status_code == 204
        gone = await client.get(feed["url"])
        assert gone.status_code == 404 and gone.headers["content-type"].startswith("application/problem+json")
