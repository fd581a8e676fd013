"""The service layer's rules, run on the in-memory fakes (tests/unit/fakes.py):
which accounts sync, what an ingest stores and which goals it reaches, plans accepted once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aligned_analytics.config import Settings
from aligned_analytics.domain.errors import Conflict, NotFound
from aligned_analytics.domain.metrics import InvalidQuery
from aligned_analytics.service_layer import commands, sync
from aligned_common.envelope import new_event
from aligned_common.events.analytics import GoalReached, PlanAccepted, SyncRequested
from aligned_common.events.connections import (
    Connected,
    ConnectionExpired,
    ConnectionRestored,
    Disconnected,
    MetricPoint,
    MetricsFailed,
    MetricsFetched,
)
from aligned_common.events.publishing import JobCreated, JobPublished, TargetRef, TargetResult
from aligned_common.identity import Identity

from .fakes import FakeUnitsOfWork

pytestmark = pytest.mark.unit

BRAND, TENANT = uuid.uuid4(), uuid.uuid4()
OWNER = Identity(TENANT, BRAND, "olga", "owner")
AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SETTINGS = Settings()


@pytest.fixture
def uows() -> FakeUnitsOfWork:
    return FakeUnitsOfWork()


async def deliver(uows: FakeUnitsOfWork, handler: Any, data: Any) -> None:
    """As the inbox does: the handler runs in the event's transaction."""
    async with uows(brand_id=BRAND) as uow:
        await handler(uow, new_event(data, brand_id=BRAND, tenant_id=TENANT), data)


async def connect(uows: FakeUnitsOfWork, platform: str = "mastodon") -> uuid.UUID:
    connection_id = uuid.uuid4()
    await deliver(uows, sync.on_connection_event, Connected(connection_id=connection_id, platform=platform))
    return connection_id


def fetched(connection_id: uuid.UUID, *points: tuple[str | None, str, float, datetime]) -> MetricsFetched:
    return MetricsFetched(
        sync_id=uuid.uuid4(),
        connection_id=connection_id,
        platform="mastodon",
        points=[MetricPoint(remote_id=r, name=n, value=v, observed_at=at) for r, n, v, at in points],
    )


# -- accounts ---------------------------------------------------------------------------------
async def test_each_connections_event_sets_the_account_s_status_and_whether_it_syncs_now(uows):
    connection_id = await connect(uows)
    account = uows.store.accounts[connection_id]
    assert (account["status"], account["next_sync_at"]) == ("active", uows.store.now)

    account["next_sync_at"] = None
    await deliver(
        uows,
        sync.on_connection_event,
        ConnectionExpired(connection_id=connection_id, platform="mastodon", reason="refresh token rejected"),
    )
    assert (account["status"], account["status_reason"], account["next_sync_at"]) == (
        "paused",
        "refresh token rejected",
        None,
    )
    await deliver(
        uows, sync.on_connection_event, ConnectionRestored(connection_id=connection_id, platform="mastodon")
    )
    assert (account["status"], account["next_sync_at"]) == ("active", uows.store.now)
    await deliver(
        uows, sync.on_connection_event, Disconnected(connection_id=connection_id, platform="mastodon")
    )
    assert account["status"] == "disconnected"


async def test_an_on_demand_sync_asks_connections_and_restarts_the_cadence(uows):
    connection_id = await connect(uows)
    [requested] = await commands.sync_now(uows, SETTINGS, OWNER, connection_id)
    [event] = uows.store.events_of(SyncRequested)
    assert (event.sync_id, event.connection_id) == (uuid.UUID(requested["sync_id"]), connection_id)
    assert uows.store.syncs[event.sync_id]["trigger"] == "on_demand"
    assert uows.store.accounts[connection_id]["next_sync_at"] == uows.store.now + timedelta(
        seconds=SETTINGS.sync_interval_s
    )


async def test_an_account_that_is_not_active_or_not_the_brand_s_is_not_synced(uows):
    connection_id = await connect(uows)
    await deliver(
        uows,
        sync.on_connection_event,
        ConnectionExpired(connection_id=connection_id, platform="mastodon", reason="refresh token rejected"),
    )
    with pytest.raises(Conflict) as paused:
        await commands.sync_now(uows, SETTINGS, OWNER, connection_id)
    assert "refresh token rejected" in paused.value.detail
    with pytest.raises(InvalidQuery) as unknown:
        await commands.sync_now(uows, SETTINGS, OWNER, uuid.uuid4())
    assert unknown.value.field == "connection_id"
    with pytest.raises(Conflict):  # no active account left to sync
        await commands.sync_now(uows, SETTINGS, OWNER, None)
    assert uows.store.events_of(SyncRequested) == [] and uows.store.syncs == {}


# -- ingest -----------------------------------------------------------------------------------
async def test_an_ingest_stores_growth_and_closes_its_sync(uows):
    connection_id = await connect(uows)
    data = fetched(
        connection_id,
        ("p1", "likes", 10, AT),
        ("p1", "likes", 25, AT + timedelta(hours=6)),
        (None, "followers", 100, AT),
    )
    await deliver(uows, sync.on_metrics_fetched, data)
    sync_row = uows.store.syncs[data.sync_id]
    assert (sync_row["status"], sync_row["rows"], sync_row["trigger"]) == ("succeeded", 3, "external")
    assert uows.store.points[(connection_id, "p1", "likes", AT + timedelta(hours=6))] == (25, 15)
    assert (connection_id, "", "followers", AT) in uows.store.points  # account-level: remote id ''


async def test_the_same_observations_again_change_nothing(uows):
    connection_id = await connect(uows)
    points = [("p1", "likes", 10, AT), ("p1", "likes", 25, AT + timedelta(hours=6))]
    await deliver(uows, sync.on_metrics_fetched, fetched(connection_id, *points))
    stored = dict(uows.store.points)
    await deliver(uows, sync.on_metrics_fetched, fetched(connection_id, *points))  # a re-sync
    assert uows.store.points == stored


async def test_a_failed_fetch_closes_its_sync_with_the_platform_s_reason(uows):
    connection_id = await connect(uows)
    failed = MetricsFailed(
        sync_id=uuid.uuid4(),
        connection_id=connection_id,
        platform="mastodon",
        reason="rate_limited",
        platform_message="slow down",
    )
    await deliver(uows, sync.on_metrics_failed, failed)
    assert uows.store.syncs[failed.sync_id]["status"] == "failed"
    assert uows.store.syncs[failed.sync_id]["error"] == "rate_limited: slow down"


# -- goals ------------------------------------------------------------------------------------
async def test_a_goal_is_announced_once_when_an_ingest_reaches_it(uows):
    connection_id = await connect(uows)
    goal_id = uuid.uuid4()
    uows.store.goals.append({"goal_id": goal_id, "brand_id": BRAND, "metric": "engagement", "target": 20})
    await deliver(uows, sync.on_metrics_fetched, fetched(connection_id, ("p1", "likes", 15, AT)))
    assert uows.store.events_of(GoalReached) == []
    later = AT + timedelta(hours=1)
    await deliver(uows, sync.on_metrics_fetched, fetched(connection_id, ("p1", "shares", 6, later)))
    await deliver(uows, sync.on_metrics_fetched, fetched(connection_id, ("p1", "likes", 30, later)))
    [reached] = uows.store.events_of(GoalReached)
    assert (reached.goal_id, reached.target, reached.value) == (goal_id, 20, 21)


async def test_an_empty_ingest_checks_no_goal(uows):
    connection_id = await connect(uows)
    uows.store.goals.append({"goal_id": uuid.uuid4(), "brand_id": BRAND, "metric": "likes", "target": 0})
    await deliver(uows, sync.on_metrics_fetched, fetched(connection_id))
    assert uows.store.events_of(GoalReached) == []


async def test_a_goal_on_an_unknown_metric_or_period_is_refused(uows):
    class Goal:
        metric, target, period, platform, connection_id = "likes", 10.0, "month", None, None

    bad_metric, bad_period = Goal(), Goal()
    bad_metric.metric, bad_period.period = "hearts", "decade"
    for body, field in ((bad_metric, "metric"), (bad_period, "period")):
        with pytest.raises(InvalidQuery) as refused:
            await commands.create_goal(uows, OWNER, body, now=uows.store.now)
        assert refused.value.field == field
    assert uows.store.goals == []


# -- posts ------------------------------------------------------------------------------------
async def test_only_published_targets_of_a_known_connection_are_tracked(uows):
    connection_id = await connect(uows)
    job_id, tracked, failed, unknown = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await deliver(
        uows,
        sync.on_job_created,
        JobCreated(
            job_id=job_id,
            author_id="alex",
            requires_approval=False,
            content="hi",
            round=1,
            targets=[
                TargetRef(target_id=tracked, platform="mastodon", connection_id=connection_id),
                TargetRef(target_id=failed, platform="mastodon", connection_id=connection_id),
            ],
        ),
    )
    await connect(uows, platform="bluesky")
    await connect(uows, platform="bluesky")  # two: the untargeted post's account is ambiguous
    await deliver(
        uows,
        sync.on_job_published,
        JobPublished(
            job_id=job_id,
            targets=[
                TargetResult(target_id=tracked, platform="mastodon", status="published", remote_id="r1"),
                TargetResult(target_id=failed, platform="mastodon", status="failed"),
                TargetResult(target_id=unknown, platform="bluesky", status="published", remote_id="r2"),
            ],
        ),
    )
    assert uows.store.posts == [{"connection_id": connection_id, "remote_id": "r1", "job_id": job_id}]


# -- plans ------------------------------------------------------------------------------------
async def test_a_plan_is_accepted_once_and_its_slots_go_out_with_the_event(uows):
    plan_id, connection_id = uuid.uuid4(), uuid.uuid4()
    uows.store.plans[plan_id] = {"plan_id": plan_id, "brand_id": BRAND, "status": "proposed"}
    uows.store.slots[plan_id] = [{"platform": "mastodon", "connection_id": connection_id, "at": AT}]
    accepted = await commands.accept_plan(uows, OWNER, plan_id)
    assert accepted["status"] == "accepted" and len(accepted["slots"]) == 1
    [event] = uows.store.events_of(PlanAccepted)
    assert (event.plan_id, event.accepted_by, event.slots[0].connection_id) == (
        plan_id,
        "olga",
        connection_id,
    )
    with pytest.raises(Conflict):
        await commands.accept_plan(uows, OWNER, plan_id)
    with pytest.raises(NotFound):
        await commands.accept_plan(uows, OWNER, uuid.uuid4())
    assert len(uows.store.events_of(PlanAccepted)) == 1
