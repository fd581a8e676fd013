"""Posts for 20 brands flow through approval and publishing, with platform webhooks arriving,
while each service is killed (kill -9) once at a random moment and restarted, the Kafka broker
is stopped for 20 s, PostgreSQL is restarted, and the platform fails one call in five.
connections is killed with many platform calls in flight instead (aim 64): the first 80 posts
fall due at one instant, the platform holds their publishes 1.5 s, and the kill waits for the
calls to be open.

At the end: every post is on the platform exactly once, every job published with its one
approved round, every consumer group has read everything (what it could not handle sits in a
DLQ with a reason), each accepted platform webhook was announced once, and the audit trail has
exactly one row per domain event. The counts are printed (run with -s to see them).

ALIGNED_FAULT_POSTS sets the number of posts (default: the issue's 500; both tests together
took 9.5 minutes on the 2-core build machine, see docs/performance.md). ALIGNED_FAULT_SEED
picks the order and moments of the faults (printed at the start, to replay a failure).
"""

from __future__ import annotations

import asyncio
import os
import random

import pytest
from fault_run import FaultRun

from aligned_testing.gateway_client import Gateway, SandboxControl
from aligned_testing.system import System

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

POSTS = int(os.environ.get("ALIGNED_FAULT_POSTS", "500"))
BRANDS = 20
SEED = int(os.environ.get("ALIGNED_FAULT_SEED", str(random.randrange(1_000_000))))


def window_for(posts: int) -> float:
    """Posts fall due across this many seconds, and the faults happen within it."""
    return max(90.0, posts * 0.3)


async def _fault_run(system: System, api: Gateway, sandbox: SandboxControl) -> None:
    run = FaultRun(system, api, sandbox, posts=POSTS, brands=BRANDS, seed=SEED, window_s=window_for(POSTS))
    print(f"fault run: {POSTS} posts, {BRANDS} brands, seed {SEED}")
    await run.setup()
    await run.run(deadline_s=window_for(POSTS) + 420)
    problems = await run.check()
    run.report.print()
    assert not problems, "\n".join(problems[:50])


async def test_posts_survive_crashes_outages_and_a_failing_platform(
    system: System, api: Gateway, sandbox: SandboxControl
) -> None:
    await _fault_run(system, api, sandbox)


async def test_the_same_with_two_processes_of_each_service(system: System, sandbox: SandboxControl) -> None:
    await asyncio.to_thread(system.scale, 2)
    # The frontend's requests go to both gateways in turn.
    gateways = Gateway(system.urls("gateway"), retry_for_s=30)
    try:
        await _fault_run(system, gateways, sandbox)
    finally:
        await gateways.aclose()
        await asyncio.to_thread(system.scale, 1)
