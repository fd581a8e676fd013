"""Live streams are bounded: a cap per user and per brand, and an open stream re-checks its
caller, so a removed member's stream or an expired token's closes within seconds."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from aligned_gateway.testing import add_member, bearer, new_brand, running_gateway, token

pytestmark = pytest.mark.integration


async def _follow(client: httpx.AsyncClient, headers: dict, timeout_s: float = 20) -> list[dict]:
    """Every event of one stream until the gateway closes it."""
    events: list[dict] = []
    async with client.stream("GET", "/v1/events/stream", headers=headers, timeout=httpx.Timeout(timeout_s)) as response:
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


async def _until(check, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_streams_are_capped_and_close_when_the_member_is_removed_or_the_token_expires(
        infra, topics, scratch_schema, stubs):
    settings = {**stubs.urls(), "live_max_streams_per_user": 2, "live_max_streams_per_brand": 3, "live_recheck_s": 0.5}
    async with running_gateway(scratch_schema, **settings) as gateway, gateway.client() as client:
        hub = gateway.deps["hub"]
        owner = await new_brand(client)
        editor = await add_member(client, owner, "editor")
        streams = [asyncio.create_task(_follow(client, editor.headers)) for _ in range(2)]
        await _until(lambda: hub.subscriber_count(owner.brand_id, editor.user_id) == 2)
        third = await client.get("/v1/events/stream", headers=editor.headers)
        assert third.status_code == 429 and third.headers["content-type"] == "application/problem+json"
        assert "per user" in third.json()["detail"]
        # The brand's cap counts everybody's streams.
        owners = asyncio.create_task(_follow(client, owner.headers))
        await _until(lambda: hub.subscriber_count(owner.brand_id) == 3)
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
