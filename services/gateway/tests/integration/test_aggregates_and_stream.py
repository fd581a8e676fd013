"""Aggregated reads (fan-out, partial answers, cache invalidation) and the live event stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import date

import httpx
import pytest

from aligned_common.db import UnitOfWork
from aligned_common.events.analytics import GoalReached
from aligned_common.events.publishing import JobUpdated
from aligned_common.migrations import migrate
from aligned_common.outbox import OutboxRelay
from aligned_testing.gateway import add_member, new_brand

pytestmark = pytest.mark.integration


async def test_dashboard_joins_sections_and_is_partial_when_a_service_is_down(gateway, stubs):
    async with gateway.client() as client:
        owner = await new_brand(client)
        job = (await client.post("/v1/jobs", json={"content": "hi"}, headers=owner.headers)).json()
        await client.post(
            "/v1/approvals", json={"job_id": job["id"], "status": "pending"}, headers=owner.headers
        )
        full = await client.get("/v1/dashboard", headers=owner.headers)
        assert full.status_code == 200, full.text
        body = full.json()
        assert body["degraded"] == []
        assert [j["id"] for j in body["calendar"]] == [job["id"]] or job["id"] in [
            j["id"] for j in body["calendar"]
        ]
        assert body["analytics"]["impressions"] == 42
        await stubs.running["analytics"].stop()
        gateway.deps.cache.invalidate(owner.brand_id, "analytics")  # not waiting for the TTL
        partial = await client.get("/v1/dashboard", headers=owner.headers)
        assert partial.status_code == 200
        assert partial.json()["degraded"] == ["analytics"]
        assert partial.json()["analytics"] is None and partial.json()["calendar"] is not None


async def test_slow_service_is_cut_off_at_its_deadline(infra, topics, scratch_schema):
    from aligned_testing.gateway import running_gateway, running_stubs

    async with (
        running_stubs(delays={"connections": 1.5}) as slow,
        running_gateway(scratch_schema, fanout_deadline_s=0.3, **slow.urls()) as gw,
        gw.client() as client,
    ):
        owner = await new_brand(client)
        response = await client.get("/v1/dashboard", headers=owner.headers)
        assert response.status_code == 200
        assert response.json()["degraded"] == ["connections"]


async def test_post_detail_and_its_404(gateway, stubs):
    async with gateway.client() as client:
        owner = await new_brand(client)
        other = await new_brand(client)
        job = (await client.post("/v1/jobs", json={"content": "hi"}, headers=owner.headers)).json()
        await client.post("/v1/approvals", json={"job_id": job["id"]}, headers=owner.headers)
        detail = await client.get(f"/v1/posts/{job['id']}", headers=owner.headers)
        assert detail.status_code == 200
        assert detail.json()["job"]["id"] == job["id"] and len(detail.json()["approval_rounds"]) == 1
        assert (await client.get(f"/v1/posts/{job['id']}", headers=other.headers)).status_code == 404
        await stubs.running["approval"].stop()
        partial = await client.get(f"/v1/posts/{job['id']}", headers=owner.headers)
        assert partial.status_code == 200 and partial.json()["degraded"] == ["approval"]


def _goal() -> GoalReached:
    today = date.today()
    return GoalReached(
        goal_id=uuid.uuid4(), metric="impressions", target=1, value=2, period_start=today, period_end=today
    )


async def _emit(database_url: str, bootstrap: str, schema: str, events: list[tuple]) -> None:
    """Publish events the way a service does: outbox rows in a transaction, then the relay."""
    import asyncpg

    await migrate(database_url, schema, None)
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    relay = OutboxRelay(pool, schema, bootstrap)
    try:
        for data, brand in events:
            async with UnitOfWork(pool, schema, brand_id=brand) as uow:
                await uow.emit(data, brand_id=brand, tenant_id=uuid.uuid4())
        await relay.start()
        for _ in range(200):
            if relay.published >= len(events):
                break
            await asyncio.sleep(0.05)
    finally:
        await relay.stop()
        async with pool.acquire() as conn:  # a pretend producer's schema: gone with the test
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            for role in (f"{schema}_app", f"{schema}_worker"):
                await conn.execute(f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')
        await pool.close()


# The events these tests send. The gateway's own events about the brand (brand created, member
# added) are on the stream too, and its relay may deliver them after a stream has opened.
SENT_KINDS = frozenset({"analytics.goal_reached", "publishing.job_updated"})


async def _read_stream(
    client: httpx.AsyncClient, headers: dict, want: int, timeout_s: float = 30
) -> list[dict]:
    """The first `want` events of SENT_KINDS on the brand's stream."""
    received: list[dict] = []

    async def read() -> None:
        async with client.stream("GET", "/v1/events/stream", headers=headers) as response:
            assert response.status_code == 200
            event: dict = {}
            async for line in response.aiter_lines():
                if not line:
                    if "id" in event and event.get("event") in SENT_KINDS:
                        received.append(event)
                    event = {}
                    if len(received) >= want:
                        return
                    continue
                name, _, value = line.partition(":")
                event[name] = value.strip()

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(read(), timeout_s)
    return received


async def test_stream_delivers_own_brand_events_only_filtered_by_role_and_resumes(
    gateway, infra, scratch_schema
):
    async with gateway.client() as client:
        owner = await new_brand(client)
        client_member = await add_member(client, owner, "client")
        other = await new_brand(client)
        await asyncio.wait_for(gateway.deps.feed_ready.wait(), 30)
        jobs = [uuid.uuid4() for _ in range(3)]
        stream = asyncio.create_task(_read_stream(client, owner.headers, want=4))
        client_stream = asyncio.create_task(_read_stream(client, client_member.headers, want=3))
        for _ in range(300):  # both streams are open before the events are published
            if gateway.deps.hub.subscriber_count(owner.brand_id) == 2:
                break
            await asyncio.sleep(0.05)
        # Topics are not ordered with each other: the goal (analytics topic) goes out and is
        # seen first, so a client's stream would show it before the jobs if it leaked.
        source = f"{scratch_schema}_src"
        other_job = (JobUpdated(job_id=uuid.uuid4(), status="scheduled", content="other"), other.brand_id)
        await _emit(infra.database_url, infra.kafka_bootstrap, source, [(_goal(), owner.brand_id), other_job])
        for _ in range(300):
            if gateway.deps.hub.since(owner.brand_id, "")[0]:
                break
            await asyncio.sleep(0.05)
        await _emit(
            infra.database_url,
            infra.kafka_bootstrap,
            source,
            [(JobUpdated(job_id=j, status="scheduled", content="x"), owner.brand_id) for j in jobs],
        )
        received = await stream
        seen_by_client = await client_stream

        def job_ids(evts):
            return [
                json.loads(e["data"])["data"].get("job_id")
                for e in evts
                if e["event"] == "publishing.job_updated"
            ]

        assert job_ids(received) == [str(j) for j in jobs]
        assert next(e["event"] for e in received) == "analytics.goal_reached"
        assert all(json.loads(e["data"])["brand_id"] == str(owner.brand_id) for e in received)
        # A client sees the posts but not analytics, and nothing of the other brand.
        assert job_ids(seen_by_client) == [str(j) for j in jobs]
        assert "analytics.goal_reached" not in [e["event"] for e in seen_by_client]

        resumed = await _read_stream(client, {**owner.headers, "Last-Event-ID": received[0]["id"]}, want=3)
        assert [e["id"] for e in resumed] == [e["id"] for e in received[1:]], (resumed, received)


async def test_cache_entry_dropped_by_domain_event(gateway, stubs, infra, scratch_schema):
    async with gateway.client() as client:
        owner = await new_brand(client)
        await asyncio.wait_for(gateway.deps.feed_ready.wait(), 30)
        await client.get("/v1/dashboard", headers=owner.headers)
        calls = stubs.states["analytics"].calls
        await client.get("/v1/dashboard", headers=owner.headers)
        assert stubs.states["analytics"].calls == calls  # served from the cache
        await _emit(
            infra.database_url, infra.kafka_bootstrap, f"{scratch_schema}_src", [(_goal(), owner.brand_id)]
        )
        for _ in range(100):
            await client.get("/v1/dashboard", headers=owner.headers)
            if stubs.states["analytics"].calls > calls:
                break
            await asyncio.sleep(0.1)
        assert stubs.states["analytics"].calls > calls
