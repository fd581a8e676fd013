"""Live streams are bounded: a cap per user and per brand, and an open stream re-checks its
caller, so a removed member's stream or an expired token's closes within seconds."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import asyncpg
import httpx
import pytest

from aligned_testing.gateway import add_member, bearer, new_brand, running_gateway, token
from aligned_testing.polling import eventually

pytestmark = pytest.mark.integration


async def _follow(client: httpx.AsyncClient, headers: dict, timeout_s: float = 20) -> list[dict]:
    """Every event of one stream until the gateway closes it."""
    events: list[dict] = []
    async with client.stream(
        "GET", "/v1/events/stream", headers=headers, timeout=httpx.Timeout(timeout_s)
    ) as response:
        assert response.status_code == 200
        event: dict = {}
        async for line in response.aiter_lines():
            if not line:
                if event:
                    events.append(event)
                event = {}
                continue
            name, _, value = line.partition(":")
            if name:
                event[name] = value.strip()
    return events


async def test_streams_are_capped_and_close_when_the_member_is_removed_or_the_token_expires(
    infra, topics, scratch_schema, stubs
):
    settings = {
        **stubs.urls(),
        "live_max_streams_per_user": 2,
        "live_max_streams_per_brand": 3,
        "live_recheck_s": 0.5,
    }
    async with running_gateway(scratch_schema, **settings) as gateway, gateway.client() as client:
        hub = gateway.deps.hub
        owner = await new_brand(client)
        editor = await add_member(client, owner, "editor")
        streams = [asyncio.create_task(_follow(client, editor.headers)) for _ in range(2)]
        await eventually(lambda: hub.subscriber_count(owner.brand_id, editor.user_id) == 2, timeout_s=10)
        third = await client.get("/v1/events/stream", headers=editor.headers)
        assert third.status_code == 429 and third.headers["content-type"] == "application/problem+json"
        assert "per user" in third.json()["detail"]
        # The brand's cap counts everybody's streams.
        owners = asyncio.create_task(_follow(client, owner.headers))
        await eventually(lambda: hub.subscriber_count(owner.brand_id) == 3, timeout_s=10)
        assert (await client.get("/v1/events/stream", headers=owner.headers)).status_code == 429

        removed_at = time.monotonic()
        gone = await client.delete(f"/v1/members/{editor.member_id}", headers=owner.headers)
        assert gone.status_code == 204
        for ended in await asyncio.wait_for(asyncio.gather(*streams), 10):
            assert ended[-1]["event"] == "end"
            assert json.loads(ended[-1]["data"])["reason"] == "no longer a member of this brand"
        assert time.monotonic() - removed_at < 5
        assert hub.subscriber_count(owner.brand_id, editor.user_id) == 0
        owners.cancel()

        # A token that expires while its stream is open ends the stream.
        short = bearer(token(sub=owner.user_id, tenant_id=owner.tenant_id, brands=[owner.brand_id], ttl_s=2))
        started = time.monotonic()
        ended = await asyncio.wait_for(_follow(client, short), 15)
        assert json.loads(ended[-1]["data"])["reason"] == "token expired"
        assert time.monotonic() - started < 8


async def _open(client: httpx.AsyncClient, headers: dict, timeout_s: float = 10) -> httpx.Response:
    """A stream opened (kept open: aclose() it), retrying while the caps refuse it."""
    deadline = time.monotonic() + timeout_s
    while True:
        request = client.build_request("GET", "/v1/events/stream", headers=headers, timeout=httpx.Timeout(30))
        response = await client.send(request, stream=True)
        if response.status_code == 200:
            return response
        assert response.status_code == 429, response.status_code
        await response.aclose()
        assert time.monotonic() < deadline, "the stream stayed refused"
        await asyncio.sleep(0.1)


async def _refused(client: httpx.AsyncClient, headers: dict) -> str:
    answer = await client.get("/v1/events/stream", headers=headers)
    assert answer.status_code == 429, answer.status_code
    return answer.json()["detail"]


async def test_the_caps_count_every_replica_s_streams_and_a_closed_one_frees_its_place_at_once(
    infra, topics, scratch_schema, stubs
):
    settings = {**stubs.urls(), "live_max_streams_per_user": 2, "live_max_streams_per_brand": 3}
    async with (
        running_gateway(scratch_schema, **settings) as first,
        first.client() as a,
        running_gateway(scratch_schema, **settings) as second,
        second.client() as b,
    ):
        owner = await new_brand(a)
        editor = await add_member(a, owner, "editor")
        streams = [await _open(a, editor.headers), await _open(b, editor.headers)]
        # One of the editor's two on each replica: a third is refused on either.
        for client in (a, b):
            assert "per user" in await _refused(client, editor.headers)
        streams.append(await _open(b, owner.headers))
        assert "per brand" in await _refused(a, owner.headers)
        # A stream that closes on one replica frees its place for the other within moments.
        await streams.pop(1).aclose()
        started = time.monotonic()
        streams.append(await _open(a, editor.headers))
        assert time.monotonic() - started < 3
        assert "per user" in await _refused(b, editor.headers)
        for stream in streams:
            await stream.aclose()


async def test_the_leases_a_dead_replica_left_stop_counting_when_they_expire(
    infra, topics, scratch_schema, stubs
):
    settings = {**stubs.urls(), "live_max_streams_per_user": 2, "live_lease_ttl_s": 30.0}
    async with running_gateway(scratch_schema, **settings) as gateway, gateway.client() as client:
        owner = await new_brand(client)
        # Two open streams of a replica that was killed: nobody renews or releases their leases.
        conn = await asyncpg.connect(infra.database_url)
        try:
            await conn.executemany(
                f"""INSERT INTO "{scratch_schema}".stream_leases (lease_id, brand_id, user_id, expires_at)
                    VALUES ($1, $2, $3, clock_timestamp() + interval '2 seconds')""",
                [(uuid.uuid4(), owner.brand_id, owner.user_id) for _ in range(2)],
            )
        finally:
            await conn.close()
        assert "per user" in await _refused(client, owner.headers)
        stream = await _open(client, owner.headers, timeout_s=6)
        await stream.aclose()
