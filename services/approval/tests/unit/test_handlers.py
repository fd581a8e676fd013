"""The service layer's rules, run on the in-memory fakes (tests/unit/fakes.py): rounds open once
and lock on the first decision, escalations fire once, mails follow the client's settings."""

from __future__ import annotations

import uuid
from datetime import time, timedelta
from typing import Any

import pytest

from aligned_approval.domain.decisions import Decision
from aligned_approval.domain.errors import Forbidden, Locked, NotFound
from aligned_approval.domain.escalation import Level, QuietHours, RuleIn
from aligned_approval.service_layer import decisions, digest, escalation, mail, rounds
from aligned_common.envelope import new_event
from aligned_common.events.approval import Approved, Escalated
from aligned_common.events.publishing import JobCancelled, JobCreated, JobUpdated, TargetRef
from aligned_common.identity import Identity
from aligned_common.problems import problem_of

from .fakes import FakeMailer, FakeStore, FakeUnitsOfWork

pytestmark = pytest.mark.unit

BASE_URL = "http://gateway.test"
BRAND, TENANT = uuid.uuid4(), uuid.uuid4()
HOUR_S = 3600.0


def member(user_id: str, role: str) -> Identity:
    return Identity(TENANT, BRAND, user_id, role)


@pytest.fixture
def uows() -> FakeUnitsOfWork:
    uows = FakeUnitsOfWork()
    uows.store.reviewers += [
        {"brand_id": BRAND, "user_id": "alex", "email": "alex@example.com", "role": "editor"},
        {"brand_id": BRAND, "user_id": "rita", "email": "rita@example.com", "role": "approver"},
        {"brand_id": BRAND, "user_id": "carl", "email": "carl@client.example", "role": "client"},
        {"brand_id": BRAND, "user_id": "olga", "email": "olga@example.com", "role": "owner"},
    ]
    return uows


async def deliver(uows: FakeUnitsOfWork, data: Any) -> None:
    """As the inbox does: the handler runs in the event's transaction."""
    envelope = new_event(data, brand_id=BRAND, tenant_id=TENANT)
    handler = {
        JobCreated: rounds.on_job_created,
        JobUpdated: rounds.on_job_updated,
    }.get(type(data))
    async with uows(brand_id=BRAND) as uow:
        if handler is None:
            await rounds.on_job_cancelled(uow, envelope, data)
        else:
            await handler(uow, envelope, data, base_url=BASE_URL)


def created(job_id: uuid.UUID, *connections: uuid.UUID, requires_approval: bool = True) -> JobCreated:
    return JobCreated(
        job_id=job_id,
        author_id="alex",
        requires_approval=requires_approval,
        content="Spring launch!",
        round=1,
        content_hash="hash-1",
        targets=[
            TargetRef(target_id=uuid.uuid4(), platform="mastodon", connection_id=c)
            for c in connections or (uuid.uuid4(),)
        ],
    )


def updated(job_id: uuid.UUID, status: str, content: str = "Spring launch, v2") -> JobUpdated:
    return JobUpdated(job_id=job_id, status=status, content=content)


async def open_round(uows: FakeUnitsOfWork, *connections: uuid.UUID) -> dict[str, Any]:
    job_id = uuid.uuid4()
    await deliver(uows, created(job_id, *connections))
    (round_,) = [r for r in uows.store.rounds if r["job_id"] == job_id]
    return round_


def mails(store: FakeStore, kind: str) -> list[str]:
    return sorted(n["to_address"] for n in store.notifications if n["kind"] == kind)


# -- opening rounds --------------------------------------------------------------------------
async def test_a_job_that_needs_approval_opens_a_round_and_mails_its_reviewers(uows):
    round_ = await open_round(uows)
    assert round_["status"] == "pending" and round_["round"] == 1
    assert round_["approver_roles"] == ["approver", "client"]  # the default policy
    assert mails(uows.store, "approval_requested") == ["carl@client.example", "rita@example.com"]


async def test_a_job_without_approval_opens_nothing(uows):
    await deliver(uows, created(uuid.uuid4(), requires_approval=False))
    assert uows.store.rounds == [] and uows.store.notifications == []


async def test_a_redelivered_job_created_opens_one_round_and_mails_once(uows):
    job_id, connection = uuid.uuid4(), uuid.uuid4()
    await deliver(uows, created(job_id, connection))
    await deliver(uows, created(job_id, connection))
    assert len(uows.store.rounds) == 1
    assert mails(uows.store, "approval_requested") == ["carl@client.example", "rita@example.com"]


async def test_each_target_s_policy_adds_its_approvers(uows):
    press, shop = uuid.uuid4(), uuid.uuid4()
    uows.store.policies += [
        {
            "brand_id": BRAND,
            "mode": "approval_required",
            "approver_roles": ["owner"],
            "approver_users": [],
            "connection_id": press,
            "user_id": None,
        },
        {
            "brand_id": BRAND,
            "mode": "approval_required",
            "approver_roles": [],
            "approver_users": ["rita"],
            "connection_id": shop,
            "user_id": None,
        },
    ]
    round_ = await open_round(uows, press, shop)
    assert (round_["approver_roles"], round_["approver_users"]) == (["owner"], ["rita"])
    assert mails(uows.store, "approval_requested") == ["olga@example.com", "rita@example.com"]


async def test_a_pending_round_follows_the_job_s_edit(uows):
    round_ = await open_round(uows)
    await deliver(uows, updated(round_["job_id"], "pending_approval"))
    assert [(r["round"], r["content"]) for r in uows.store.rounds] == [(1, "Spring launch, v2")]


async def test_an_edit_sent_back_for_approval_opens_the_next_round_and_leaves_the_decided_one(uows):
    round_ = await open_round(uows)
    await decisions.decide_as_member(
        uows, member("rita", "approver"), round_["id"], Decision.REJECT, "no", base_url=BASE_URL
    )
    await deliver(uows, updated(round_["job_id"], "pending_approval"))
    assert [(r["round"], r["status"], r["content"]) for r in uows.store.rounds] == [
        (1, "rejected", "Spring launch!"),
        (2, "pending", "Spring launch, v2"),
    ]


async def test_an_edit_of_a_cancelled_round_opens_nothing(uows):
    round_ = await open_round(uows)
    await deliver(uows, JobCancelled(job_id=round_["job_id"]))
    assert uows.store.rounds[0]["status"] == "cancelled"
    await deliver(uows, updated(round_["job_id"], "pending_approval"))
    assert len(uows.store.rounds) == 1


# -- deciding ---------------------------------------------------------------------------------
async def test_a_decision_locks_the_round_emits_its_event_and_tells_the_author(uows):
    round_ = await open_round(uows)
    decided = await decisions.decide_as_member(
        uows, member("rita", "approver"), round_["id"], Decision.APPROVE, "lgtm", base_url=BASE_URL
    )
    assert decided["status"] == "approved" and decided["decided_by"] == "rita"
    (event,) = uows.store.events_of(Approved)
    assert (event.approval_id, event.content_hash, event.comment) == (round_["id"], "hash-1", "lgtm")
    assert mails(uows.store, "decided") == ["alex@example.com"]


async def test_a_second_decision_is_refused_and_changes_nothing(uows):
    round_ = await open_round(uows)
    await decisions.decide_as_member(
        uows, member("rita", "approver"), round_["id"], Decision.APPROVE, None, base_url=BASE_URL
    )
    events = len(uows.store.events)
    with pytest.raises(Locked) as refused:
        await decisions.decide_as_member(
            uows, member("carl", "client"), round_["id"], Decision.REJECT, None, base_url=BASE_URL
        )
    assert refused.value.extra["status_now"] == "approved"
    assert uows.store.rounds[0]["status"] == "approved" and len(uows.store.events) == events
    problem = problem_of(refused.value)
    assert (problem.status, problem.extra["status_now"]) == (409, "approved")


async def test_only_the_round_s_approvers_and_the_brand_s_owners_decide(uows):
    press = uuid.uuid4()
    uows.store.policies.append(
        {
            "brand_id": BRAND,
            "mode": "approval_required",
            "approver_roles": [],
            "approver_users": ["rita"],
            "connection_id": press,
            "user_id": None,
        }
    )
    round_ = await open_round(uows, press)
    with pytest.raises(Forbidden):  # a client, but this round's policy names rita only
        await decisions.decide_as_member(
            uows, member("carl", "client"), round_["id"], Decision.APPROVE, None, base_url=BASE_URL
        )
    with pytest.raises(Forbidden):  # editors never decide
        await decisions.decide_as_member(
            uows, member("alex", "editor"), round_["id"], Decision.APPROVE, None, base_url=BASE_URL
        )
    decided = await decisions.decide_as_member(
        uows, member("olga", "owner"), round_["id"], Decision.REQUEST_CHANGES, "shorter", base_url=BASE_URL
    )
    assert decided["status"] == "changes_requested"


async def test_a_round_of_another_brand_is_not_found(uows):
    round_ = await open_round(uows)
    stranger = Identity(TENANT, uuid.uuid4(), "rita", "approver")
    with pytest.raises(NotFound):
        await decisions.decide_as_member(
            uows, stranger, round_["id"], Decision.APPROVE, None, base_url=BASE_URL
        )


async def test_a_decided_round_s_details_are_locked(uows):
    round_ = await open_round(uows)
    edited = await decisions.update_round(
        uows, member("alex", "editor"), round_["id"], note="urgent", approver_users=["rita"]
    )
    assert (edited["note"], edited["approver_users"]) == ("urgent", ["rita"])
    await decisions.decide_as_member(
        uows, member("rita", "approver"), round_["id"], Decision.APPROVE, None, base_url=BASE_URL
    )
    with pytest.raises(Locked):
        await decisions.update_round(
            uows, member("alex", "editor"), round_["id"], note="late", approver_users=None
        )


# -- escalation -------------------------------------------------------------------------------
async def add_rule(uows: FakeUnitsOfWork, quiet_hours: QuietHours | None = None) -> None:
    rule = RuleIn(
        name="chase",
        levels=[
            Level(after_hours=4, notify_roles=["approver"]),
            Level(after_hours=2, notify_roles=["owner"], notify_addresses=["boss@example.com"]),
        ],
        quiet_hours=quiet_hours,
    )
    async with uows(brand_id=BRAND) as uow:
        await uow.escalations.insert_rule(BRAND, rule)


async def tick(uows: FakeUnitsOfWork, hours_later: float) -> int:
    return await escalation.tick(
        uows, now=uows.store.now + timedelta(hours=hours_later), hour_s=HOUR_S, base_url=BASE_URL
    )


async def test_each_level_fires_once_when_its_time_comes(uows):
    await add_rule(uows)
    round_ = await open_round(uows)
    assert await tick(uows, 3.9) == 0
    assert await tick(uows, 4) == 1
    assert await tick(uows, 4.5) == 0  # level 1 fired already; level 2 is due at 6 hours
    assert await tick(uows, 6) == 1
    assert await tick(uows, 50) == 0  # no level left
    fired = uows.store.events_of(Escalated)
    assert [(e.approval_id, e.level) for e in fired] == [(round_["id"], 1), (round_["id"], 2)]
    assert fired[1].notified == ["boss@example.com", "olga@example.com", "owner"]
    assert mails(uows.store, "reminder") == ["rita@example.com"]
    assert mails(uows.store, "escalated") == ["boss@example.com", "olga@example.com"]


async def escalation_candidates(uows: FakeUnitsOfWork) -> list[dict[str, Any]]:
    async with uows(role="worker") as uow:
        return await uow.escalations.candidates(500)


async def test_a_level_another_replica_claimed_does_not_fire_again(uows):
    await add_rule(uows)
    round_ = await open_round(uows)
    (candidate,) = await escalation_candidates(uows)  # this replica read it ...
    async with uows(brand_id=BRAND) as uow:  # ... then another replica fired level 1
        assert await uow.escalations.claim_firing(BRAND, round_["id"], candidate["rule_id"], 1)
    level = Level(after_hours=4, notify_roles=["approver"])
    later = uows.store.now + timedelta(hours=5)
    assert await escalation._fire(uows, candidate, level, 1, later, BASE_URL) == 0
    assert uows.store.events_of(Escalated) == [] and mails(uows.store, "reminder") == []


async def test_a_decided_round_never_escalates_and_its_firings_are_resolved(uows):
    await add_rule(uows)
    round_ = await open_round(uows)
    assert await tick(uows, 4) == 1
    await decisions.decide_as_member(
        uows, member("rita", "approver"), round_["id"], Decision.APPROVE, None, base_url=BASE_URL
    )
    assert await tick(uows, 6) == 0
    steps = [(h["level"], h["step"]) for h in uows.store.history]
    assert steps == [(1, "fired"), (1, "resolved")]


async def test_a_level_due_in_quiet_hours_waits_for_them_to_end(uows):
    await add_rule(uows, QuietHours(start=time(12, 0), end=time(14, 0)))  # opened 09:00 UTC
    await open_round(uows)
    assert await tick(uows, 4) == 0  # 13:00: quiet
    assert [h["step"] for h in uows.store.history] == ["deferred_quiet_hours"]
    assert await tick(uows, 5) == 1  # 14:00: the quiet hours are over


# -- mail -------------------------------------------------------------------------------------
async def send(uows: FakeUnitsOfWork, mailer: FakeMailer, max_attempts: int = 8) -> int:
    return await mail.send_due(
        uows, mailer, secret=b"s" * 32, base_url=BASE_URL, max_attempts=max_attempts, now=uows.store.now
    )


def statuses(store: FakeStore) -> dict[str, str]:
    return {n["to_address"]: n["status"] for n in store.notifications}


async def test_mail_goes_out_with_an_unsubscribe_link_for_its_kind(uows):
    await open_round(uows)
    mailer = FakeMailer()
    assert await send(uows, mailer) == 2
    assert statuses(uows.store) == {"carl@client.example": "sent", "rita@example.com": "sent"}
    assert all(f"{BASE_URL}/unsubscribe/" in body for _, _, body in mailer.sent)
    assert await send(uows, mailer) == 0  # nothing is sent twice


async def test_a_client_s_settings_suppress_what_they_do_not_want(uows):
    await open_round(uows)
    async with uows(brand_id=BRAND) as uow:
        uow.clients.set(BRAND, "carl@client.example", preferences={"approvals_needed": False})
        uow.clients.set(BRAND, "rita@example.com", unsubscribed_types=["approval_requested"])
    mailer = FakeMailer()
    await send(uows, mailer)
    assert mailer.sent == []
    assert statuses(uows.store) == {"carl@client.example": "suppressed", "rita@example.com": "suppressed"}


async def test_mail_over_the_daily_limit_is_held_for_the_digest(uows):
    async with uows(brand_id=BRAND) as uow:
        await uow.clients.ensure(BRAND, "rita@example.com")
        uow.clients.set(BRAND, "rita@example.com", preferences={"max_emails_per_day": 1})
    await open_round(uows)
    await open_round(uows)
    mailer = FakeMailer()
    await send(uows, mailer)
    rita = [n["status"] for n in uows.store.notifications if n["to_address"] == "rita@example.com"]
    assert sorted(rita) == ["held", "sent"]


async def test_a_failed_send_is_retried_later_then_given_up(uows):
    await open_round(uows)
    mailer = FakeMailer(failing=True)
    await send(uows, mailer, max_attempts=2)
    assert set(statuses(uows.store).values()) == {"pending"}
    assert all(n["next_attempt_at"] > uows.store.now for n in uows.store.notifications)
    uows.store.now += timedelta(hours=1)
    await send(uows, mailer, max_attempts=2)
    assert set(statuses(uows.store).values()) == {"failed"}


async def test_held_mail_and_waiting_rounds_go_out_in_one_digest_once_a_period(uows):
    async with uows(brand_id=BRAND) as uow:
        await uow.clients.ensure(BRAND, "rita@example.com")
        uow.clients.set(
            BRAND, "rita@example.com", preferences={"max_emails_per_day": 1, "weekly_digest": False}
        )
    await open_round(uows)
    await open_round(uows)
    await send(uows, FakeMailer())  # one sent, one held back by the limit
    before_eight = uows.store.now.replace(hour=7)
    assert await digest.tick(uows, hour=8, now=before_eight, base_url=BASE_URL) == 0
    after_eight = uows.store.now + timedelta(minutes=5)
    assert await digest.tick(uows, hour=8, now=after_eight, base_url=BASE_URL) == 1
    assert await digest.tick(uows, hour=8, now=after_eight, base_url=BASE_URL) == 0  # once per period
    (digest_mail,) = [n for n in uows.store.notifications if n["kind"] == "digest"]
    folded = [n for n in uows.store.notifications if n["status"] == "folded"]
    assert digest_mail["to_address"] == "rita@example.com" and digest_mail["status"] == "pending"
    assert len(folded) == 1 and folded[0]["folded_into"] == digest_mail["id"]


async def test_a_client_without_held_mail_or_a_chosen_digest_gets_none(uows):
    async with uows(brand_id=BRAND) as uow:
        await uow.clients.ensure(BRAND, "carl@client.example")
        uow.clients.set(
            BRAND, "carl@client.example", preferences={"weekly_digest": False, "daily_digest": False}
        )
    next_morning = (uows.store.now + timedelta(days=1)).replace(hour=8)
    assert await digest.tick(uows, hour=8, now=next_morning, base_url=BASE_URL) == 0
    assert mails(uows.store, "digest") == []
