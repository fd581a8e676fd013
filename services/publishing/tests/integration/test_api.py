"""The HTTP API as a user meets it: validation, conflicts, isolation, calendar, search, the bin."""

from datetime import timedelta

import pytest

from aligned_common.events.connections import PostPublished
from aligned_testing.kafka_reader import TopicReader
from aligned_testing.polling import eventually
from aligned_testing.publishing import Brand, events_of, job_body

pytestmark = pytest.mark.integration


async def test_validation_errors_are_problem_json_naming_the_field(svc, brand):
    async with svc.client() as client:
        no_targets = await client.post(
            "/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox, targets=[])
        )
        bad_zone = await client.post(
            "/v1/jobs",
            headers=brand.headers,
            json=job_body(brand.sandbox, scheduled_at="2030-01-01T09:00:00", time_zone="Mars/Olympus"),
        )
        past = await client.post(
            "/v1/jobs",
            headers=brand.headers,
            json=job_body(brand.sandbox, scheduled_at="2020-01-01T09:00:00+00:00"),
        )
        unknown_platform = await client.post(
            "/v1/jobs",
            headers=brand.headers,
            json=job_body(
                brand.sandbox, targets=[{"platform": "myspace", "connection_id": str(brand.sandbox)}]
            ),
        )
    for response, field in (
        (no_targets, "targets"),
        (bad_zone, "time_zone"),
        (past, "scheduled_at"),
        (unknown_platform, "targets[0].platform"),
    ):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["field"] == field


async def test_another_brands_job_is_not_found_and_unsigned_calls_are_refused(svc, brand, producer):
    async with svc.client() as client:
        job = (await client.post("/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox))).json()
        stranger = Brand(producer)
        assert (await client.get(f"/v1/jobs/{job['job_id']}", headers=stranger.headers)).status_code == 404
        assert (
            await client.patch(
                f"/v1/jobs/{job['job_id']}", headers=stranger.headers, json={"content": "hijack"}
            )
        ).status_code == 404
        assert (await client.get("/v1/jobs", headers=stranger.headers)).json()["items"] == []
        assert (await client.get(f"/v1/jobs/{job['job_id']}")).status_code == 401
        viewer = Brand(producer, role="viewer")
        assert (
            await client.post("/v1/jobs", headers=viewer.headers, json=job_body(brand.sandbox))
        ).status_code == 403


async def test_editing_a_published_job_is_a_conflict(svc, brand, infra):
    async with (
        svc.client() as client,
        TopicReader(infra.kafka_bootstrap, "aligned.publishing.events") as topic,
    ):
        job = (await client.post("/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox))).json()
        await client.post(f"/v1/jobs/{job['job_id']}/publish-now", headers=brand.headers)
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.attempt_requested"), settle_s=0
        )
        data = events_of(records, brand, "publishing.attempt_requested")[0]["data"]
        in_flight = await client.patch(
            f"/v1/jobs/{job['job_id']}", headers=brand.headers, json={"content": "x"}
        )
        assert in_flight.status_code == 409
        await brand.send(
            PostPublished(
                job_id=data["job_id"],
                target_id=data["target_id"],
                platform="sandbox",
                connection_id=data["connection_id"],
                idempotency_key=data["idempotency_key"],
                attempt=1,
                remote_id="r1",
            )
        )

        async def published():
            return (await client.get(f"/v1/jobs/{job['job_id']}", headers=brand.headers)).json()[
                "status"
            ] == "published"

        await eventually(published, what="published")
        edit = await client.patch(f"/v1/jobs/{job['job_id']}", headers=brand.headers, json={"content": "x"})
        assert edit.status_code == 409 and "published" in edit.json()["detail"]


async def test_calendar_pages_by_cursor_in_time_order(svc, brand):
    start = svc.clock.now() + timedelta(days=3)
    async with svc.client() as client:
        for hour in (5, 1, 3, 2, 4):
            await client.post(
                "/v1/jobs",
                headers=brand.headers,
                json=job_body(
                    brand.sandbox,
                    content=f"post at {hour}",
                    scheduled_at=(start + timedelta(hours=hour)).isoformat(),
                ),
            )
        await client.post(
            "/v1/jobs",
            headers=brand.headers,
            json=job_body(
                brand.sandbox, content="outside", scheduled_at=(start + timedelta(days=2)).isoformat()
            ),
        )
        seen, cursor = [], None
        while True:
            params = {"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat(), "limit": 2}
            page = (
                await client.get(
                    "/v1/jobs", headers=brand.headers, params=params | ({"cursor": cursor} if cursor else {})
                )
            ).json()
            seen += [j["content"] for j in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        drafts = (await client.get("/v1/jobs", headers=brand.headers, params={"status": "draft"})).json()
    assert seen == [f"post at {h}" for h in (1, 2, 3, 4, 5)]
    assert len(drafts["items"]) == 6


async def test_search_is_ranked_and_deleted_jobs_are_hidden_until_restored(svc, brand):
    async with svc.client() as client:

        async def make(content, tags):
            return (
                await client.post(
                    "/v1/jobs",
                    headers=brand.headers,
                    json=job_body(brand.sandbox, content=content, tags=tags),
                )
            ).json()["job_id"]

        tagged = await make("Autumn sale starts Friday", ["autumn"])
        mentioned = await make("Our autumn recipes, and a sale", [])
        await make("Nothing to see here", ["misc"])

        async def search(q):
            page = (await client.get("/v1/jobs", headers=brand.headers, params={"q": q})).json()
            return [j["job_id"] for j in page["items"]]

        assert await search("autumn") == [tagged, mentioned], "a tag match ranks above a content match"
        assert set(await search("sales")) == {tagged, mentioned}, "content is matched stemmed"
        assert (await client.delete(f"/v1/jobs/{tagged}", headers=brand.headers)).status_code == 204
        assert await search("autumn") == [mentioned]
        assert (await client.get(f"/v1/jobs/{tagged}", headers=brand.headers)).status_code == 404
        bin_ = (await client.get("/v1/jobs", headers=brand.headers, params={"deleted": "true"})).json()
        assert [j["job_id"] for j in bin_["items"]] == [tagged]
        assert (await client.post(f"/v1/jobs/{tagged}/restore", headers=brand.headers)).status_code == 200
        assert await search("autumn") == [tagged, mentioned]


async def test_deleted_jobs_past_the_window_are_purged(svc, brand):
    from aligned_publishing.service_layer.purge import purge_deleted

    deps = svc.ctx.deps
    async with svc.client() as client:
        job = (await client.post("/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox))).json()
        await client.delete(f"/v1/jobs/{job['job_id']}", headers=brand.headers)
        svc.clock.advance(timedelta(days=deps.settings.restore_window_days, minutes=1))
        assert (
            await client.post(f"/v1/jobs/{job['job_id']}/restore", headers=brand.headers)
        ).status_code == 410
        assert await purge_deleted(deps) >= 1
        assert (
            await client.post(f"/v1/jobs/{job['job_id']}/restore", headers=brand.headers)
        ).status_code == 404
