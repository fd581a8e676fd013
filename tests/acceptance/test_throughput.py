"""Posts due together go out together: a slow platform does not make a queue of them.

The promise: 4 brands x 10 posts due in the same instant, with the platform taking 1 s to answer
each publish, are all published within 20 s of their due time (one call at a time would take
40 s and more), each exactly once on the platform.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from aligned_testing.flows import draft_and_submit, onboard_brand
from aligned_testing.gateway_client import Gateway, SandboxControl

pytestmark = pytest.mark.e2e

BRANDS = 4
POSTS_PER_BRAND = 10
PLATFORM_LATENCY_S = 1.0
WITHIN_S = 20.0


async def test_forty_posts_due_at_once_on_a_slow_platform_publish_together(
    api: Gateway, sandbox: SandboxControl
) -> None:
    brands = await asyncio.gather(
        *(onboard_brand(api, sandbox.base_url, label="burst") for _ in range(BRANDS))
    )
    tag = uuid.uuid4().hex[:6]
    due_at = time.time() + 25  # room to create the 40 posts through the API first

    async def create(brand, i: int) -> tuple[Gateway, str, str]:
        text = f"burst {tag} {brand.brand_id[:8]} {i}"
        job = await draft_and_submit(
            brand.owner.api,
            brand.connection_id,
            text=text,
            requires_approval=False,
            due_in_s=due_at - time.time(),
        )
        return brand.owner.api, job["job_id"], text

    await sandbox.add_fault(
        mode="slow", delay_s=PLATFORM_LATENCY_S, endpoint="/api/v1/posts", method="POST", count=1_000_000
    )
    try:
        jobs = await asyncio.gather(*(create(b, i) for b in brands for i in range(POSTS_PER_BRAND)))
        assert time.time() < due_at, "creating the posts took longer than planned; the test measures nothing"
        await asyncio.sleep(max(0.0, due_at - time.time()))

        pending = {job_id: (owner, text) for owner, job_id, text in jobs}
        statuses: dict[str, str] = {}
        while pending and time.time() < due_at + 90:
            checked = await asyncio.gather(
                *(owner.get(f"/v1/jobs/{job_id}") for job_id, (owner, _) in pending.items())
            )
            for job in checked:
                if job["status"] in ("published", "partially_published", "failed", "cancelled"):
                    statuses[job["job_id"]] = job["status"]
                    pending.pop(job["job_id"])
            await asyncio.sleep(0.5)
        all_done_after_s = time.time() - due_at
    finally:
        await sandbox.clear_faults()

    assert not pending, f"{len(pending)} posts not finished 90 s after their due time"
    assert set(statuses.values()) == {"published"}, statuses
    assert all_done_after_s <= WITHIN_S, (
        f"the last of {len(jobs)} posts was published {all_done_after_s:.1f} s after the due time"
    )
    counts = (await sandbox.counts())["by_text"]
    assert [counts.get(text) for _, _, text in jobs] == [1] * len(jobs), "each post made exactly once"
