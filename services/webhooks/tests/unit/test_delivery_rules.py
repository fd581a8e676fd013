"""Webhook delivery scheduling, run on the in-memory fakes: what a try's answer leads to (the
retry schedule, a receiver's Retry-After, giving up), and when an endpoint is switched off."""

from datetime import timedelta

import pytest

from aligned_common.events.webhooks import EndpointDisabled
from aligned_webhooks.adapters.sender import SendResult
from aligned_webhooks.service_layer.delivery import record_outcome

pytestmark = pytest.mark.unit


def answered(status: int | None, *, error: str | None = None, retry_after: str | None = None) -> SendResult:
    return SendResult(status, 12.0, None, error, retry_after)


async def try_once(world, endpoint, result: SendResult) -> float | None:
    delivery = await world.claimed(endpoint)
    return await record_outcome(world.deps, delivery, world.clock.now(), result)


def row(world, endpoint) -> dict:
    [delivery] = [d for d in world.store.deliveries.values() if d["endpoint_id"] == endpoint.id]
    return delivery


async def test_a_failed_try_is_retried_on_the_schedule_then_given_up(world):
    endpoint = await world.endpoint()
    waits = [await try_once(world, endpoint, answered(500)) for _ in range(4)]
    assert waits == [5, 300, 1800, None]  # retry_schedule_s [0, 5, 300, 1800]: four tries in all
    delivery = row(world, endpoint)
    assert (delivery["status"], delivery["attempts"], delivery["last_status"]) == ("failed", 4, 500)
    assert len(world.store.attempts) == 4  # every try is in the attempt log
    # Kept (failed) so the brand can replay it; the endpoint is still on (failing for 0 s).
    assert world.store.endpoints[endpoint.id].enabled


async def test_a_retry_is_due_its_wait_after_the_answer(world):
    endpoint = await world.endpoint()
    assert await try_once(world, endpoint, answered(None, error="connect timeout")) == 5
    assert row(world, endpoint)["next_attempt_at"] == world.clock.now() + timedelta(seconds=5)
    assert row(world, endpoint)["last_error"] == "connect timeout"


async def test_a_receivers_retry_after_longer_than_the_schedule_wins(world):
    endpoint = await world.endpoint()
    assert await try_once(world, endpoint, answered(503, retry_after="120")) == 120
    assert await try_once(world, endpoint, answered(503, retry_after="1")) == 300  # shorter: the schedule


async def test_success_finishes_the_delivery_and_heals_the_endpoint(world):
    endpoint = await world.endpoint()
    await try_once(world, endpoint, answered(500))
    assert world.store.endpoints[endpoint.id].failing_since == world.clock.now()
    assert await try_once(world, endpoint, answered(204)) is None
    assert row(world, endpoint)["status"] == "succeeded"
    assert world.store.endpoints[endpoint.id].failing_since is None


async def test_an_endpoint_failing_longer_than_the_limit_is_disabled_once_and_the_brand_told(world):
    endpoint = await world.endpoint()
    await try_once(world, endpoint, answered(500))  # failing since now
    world.clock.advance(timedelta(seconds=3599))
    await try_once(world, endpoint, answered(500))
    assert world.store.endpoints[endpoint.id].enabled  # not quite an hour
    world.clock.advance(timedelta(seconds=1))
    await try_once(world, endpoint, answered(500))
    disabled = world.store.endpoints[endpoint.id]
    assert not disabled.enabled and disabled.disabled_at == world.clock.now()
    assert "every delivery failed since" in disabled.disabled_reason
    # A further failing try (one already in flight) does not tell the brand twice.
    world.clock.advance(timedelta(seconds=10))
    await try_once(world, endpoint, answered(500))
    [event] = world.store.events_of(EndpointDisabled)
    assert (event.endpoint_id, event.url) == (endpoint.id, endpoint.url)


async def test_a_success_between_failures_restarts_the_failing_clock(world):
    endpoint = await world.endpoint()
    await try_once(world, endpoint, answered(500))
    world.clock.advance(timedelta(seconds=3000))
    await try_once(world, endpoint, answered(200))
    await try_once(world, endpoint, answered(500))
    world.clock.advance(
        timedelta(seconds=3000)
    )  # 6000 s since the first failure, 3000 s since the latest run began
    await try_once(world, endpoint, answered(500))
    assert world.store.endpoints[endpoint.id].enabled
    assert world.store.events_of(EndpointDisabled) == []


async def test_410_gone_stops_at_once_and_disables_the_endpoint(world):
    endpoint = await world.endpoint()
    assert await try_once(world, endpoint, answered(410)) is None  # no retry
    assert (row(world, endpoint)["status"], row(world, endpoint)["last_status"]) == ("failed", 410)
    assert world.store.endpoints[endpoint.id].disabled_reason == "the endpoint answered 410 Gone"
    assert len(world.store.events_of(EndpointDisabled)) == 1
