"""Live event streams are bounded: a user holds only so many open at once, and a member
removed from the brand stops receiving its events within seconds, on the stream already open."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import httpx
import pytest

from aligned_testing.gateway_client import ApiError, BrandSetup, add_member

pytestmark = pytest.mark.e2e

PER_USER = 5  # the gateway's default live_max_streams_per_user


async def test_a_removed_members_open_stream_closes_within_seconds(brand: BrandSetup) -> None:
    tag = uuid.uuid4().hex[:8]
    viewer = await add_member(
        brand, user_id=f"viewer-{tag}", email=f"viewer-{tag}@example.com", role="viewer"
    )
    events: list[dict] = []

    async def follow() -> None:  # ends when the gateway closes the stream
        async for message in viewer.api.events():
            events.append(message)

    stream = asyncio.create_task(follow())
    try:
        await asyncio.sleep(1.0)  # the stream is open
        assert not stream.done()
        members = (await brand.owner.api.get("/v1/members"))["items"]
        member_id = next(m["member_id"] for m in members if m["user_id"] == viewer.user_id)
        removed_at = time.monotonic()
        await brand.owner.api.request("DELETE", f"/v1/members/{member_id}")
        await asyncio.wait_for(stream, 20)
        closed_after = time.monotonic() - removed_at
    finally:
        stream.cancel()
        with contextlib.suppress(BaseException):
            await stream
    assert events and events[-1]["event"] == "end", events[-3:]
    assert events[-1]["data"] == {"reason": "no longer a member of this brand"}
    assert closed_after < 15, closed_after
    with pytest.raises(ApiError) as again:
        await viewer.api.get("/v1/jobs")
    assert again.value.status == 403


async def test_a_user_holds_only_so_many_open_streams(brand: BrandSetup) -> None:
    owner = brand.owner.api
    headers = {"Authorization": f"Bearer {owner.token}"}
    async with httpx.AsyncClient(
        base_url=owner.base_urls[0], headers=headers, timeout=httpx.Timeout(30, read=None)
    ) as client:
        async with contextlib.AsyncExitStack() as streams:
            for _ in range(PER_USER):
                response = await streams.enter_async_context(client.stream("GET", "/v1/events/stream"))
                assert response.status_code == 200
            refused = await client.get("/v1/events/stream")
            assert (
                refused.status_code == 429 and refused.headers["content-type"] == "application/problem+json"
            )
            assert refused.headers.get("retry-after")

        # Closed streams free their places.
        async def reopened() -> int:
            async with client.stream("GET", "/v1/events/stream") as response:
                return response.status_code

        deadline = time.monotonic() + 10
        while (status := await reopened()) != 200 and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        assert status == 200
