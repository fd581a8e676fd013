"""Token refresh decisions, run on the in-memory fakes: refreshed ahead of expiry, a refused
refresh (revoked or invalid grant) means the user must connect again, transient failures back
off, and a connection that is not usable is left alone."""

from datetime import timedelta

import pytest

from aligned_common.events.connections import ConnectionExpired
from aligned_connections.adapters.platforms import Retryable
from aligned_connections.domain.connection import RefreshStep, Status
from aligned_connections.service_layer import refresh_scheduler
from aligned_connections.service_layer.tokens import refresh_connection

from .fakes import auth_failure

pytestmark = pytest.mark.unit


async def test_the_scheduler_refreshes_what_expires_within_the_window_and_nothing_else(world):
    soon = world.connect(expires_in_s=600)  # inside the 900 s window
    later = world.connect(expires_in_s=7200)
    results = await refresh_scheduler.refresh_due(world.deps)
    assert [(r.kind, r.connection.id) for r in results] == [("refreshed", soon.id)]
    assert world.deps.vault.access_token(world.row(soon)) == "access-2"
    assert world.deps.vault.access_token(world.row(later)) == "access-1"
    assert world.row(soon).expires_at == world.clock.now() + timedelta(hours=1)


async def test_a_connection_without_a_refresh_token_is_not_claimed_by_the_scheduler(world):
    world.connect(expires_in_s=60, refresh_token=None)
    assert await refresh_scheduler.refresh_due(world.deps) == []
    assert world.platform.calls == []


@pytest.mark.parametrize("status", [Status.EXPIRED, Status.REVOKED, Status.DISCONNECTED, Status.ERROR])
async def test_a_connection_that_is_not_usable_is_not_refreshed(world, status):
    held = world.connect(expires_in_s=60, status=status)
    result = await refresh_connection(world.deps, held.brand_id, held.id)
    assert result.kind == "not_usable"
    assert world.platform.calls == []  # no call on its behalf
    assert await refresh_scheduler.refresh_due(world.deps) == []


async def test_a_token_still_valid_long_enough_is_not_refreshed_again(world):
    # Another replica refreshed it while this one waited for the row lock.
    connection = world.connect(expires_in_s=3600)
    result = await refresh_connection(world.deps, connection.brand_id, connection.id, unless_valid_for_s=60)
    assert (result.kind, result.access_token) == ("fresh", "access-1")
    assert world.platform.calls == []


async def test_a_refused_refresh_means_the_user_must_connect_again(world):
    connection = world.connect(expires_in_s=60)
    world.platform.refresh_answers.append(auth_failure("invalid_grant"))
    result = await refresh_connection(world.deps, connection.brand_id, connection.id)
    assert result.kind == "dead"
    row = world.row(connection)
    assert row.status is Status.EXPIRED and row.last_error == "invalid_grant"
    [expired] = world.store.events_of(ConnectionExpired)  # the rest of the system is told, once
    assert expired.connection_id == connection.id
    assert world.deps.vault.access_token(row) == "access-1"  # nothing else changed


async def test_a_transient_failure_backs_off_and_keeps_the_tokens(world):
    connection = world.connect(expires_in_s=60)
    for failures in (1, 2, 3):
        world.platform.refresh_answers.append(Retryable("timeout", platform="sandbox"))
        result = await refresh_connection(world.deps, connection.brand_id, connection.id)
        assert result.kind == "transient"
        assert result.retry_after_s == 5.0 * 2 ** (failures - 1)
    row = world.row(connection)
    assert row.status is Status.CONNECTED and row.refresh_failures == 3
    assert (row.next_refresh_at - world.clock.now()).total_seconds() == 20.0
    assert world.deps.vault.access_token(row) == "access-1"
    assert world.store.events == []
    # Backing off: not due again until next_refresh_at.
    assert await refresh_scheduler.refresh_due(world.deps) == []
    world.clock.advance(timedelta(seconds=20))
    assert [r.kind for r in await refresh_scheduler.refresh_due(world.deps)] == ["refreshed"]
    assert world.row(connection).refresh_failures == 0


async def test_a_platforms_retry_after_wins_over_a_shorter_backoff(world):
    connection = world.connect(expires_in_s=60)
    world.platform.refresh_answers.append(
        Retryable("slow down", platform="sandbox", status_code=429, retry_after=120)
    )
    result = await refresh_connection(world.deps, connection.brand_id, connection.id)
    assert result.retry_after_s == 120


def test_the_refresh_step_of_a_connection(world):
    now = world.clock.now()
    assert world.connect(expires_in_s=30).refresh_step(now) is RefreshStep.REFRESH
    assert world.connect(expires_in_s=3600).refresh_step(now, 60) is RefreshStep.FRESH
    assert world.connect(expires_in_s=30).refresh_step(now, 60) is RefreshStep.REFRESH
    assert world.connect(status=Status.REVOKED).refresh_step(now) is RefreshStep.NOT_USABLE
    assert world.connect(expires_in_s=30).needs_refresh_before_use(now, 60)
    assert not world.connect(expires_in_s=30, refresh_token=None).needs_refresh_before_use(now, 60)
