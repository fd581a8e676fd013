"""The job lifecycle's rules, run on the in-memory fakes (no database, no broker): create, edit,
submit, approve, schedule, publish now, cancel, delete/restore, the approval gate, holds, and
the aggregate's refusals."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from aligned_common.envelope import new_event
from aligned_common.events.analytics import PlanAccepted, PlannedSlot
from aligned_common.events.approval import Approved, ChangesRequested
from aligned_common.identity import Identity
from aligned_common.problems import problem_of
from aligned_publishing.domain.commands import CreateJob, EditJob, ScheduleJob, TargetIn
from aligned_publishing.domain.errors import Conflict, Gone, IllegalTransition, Invalid, NotFound
from aligned_publishing.domain.gate import PolicyView
from aligned_publishing.domain.job import JOB_TRANSITIONS, Job, check_target_transition
from aligned_publishing.domain.status import FINISHED_JOB, JobStatus, TargetStatus
from aligned_publishing.service_layer import approvals, jobs
from aligned_testing.clock import StillClock

from .fakes import NOW, FakeUnitOfWork, Store, fake_deps

pytestmark = pytest.mark.unit

BRAND, TENANT = uuid.uuid4(), uuid.uuid4()
EDITOR = Identity(TENANT, BRAND, "ed", "editor")
ADMIN = Identity(TENANT, BRAND, "ada", "admin")


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def clock() -> StillClock:
    return StillClock(NOW)


@pytest.fixture
def deps(store, clock):
    return fake_deps(store, clock, hold_grace_s=3600.0)


@pytest.fixture
def account(store) -> uuid.UUID:
    """A connected sandbox account of the brand (our copy of connections' events)."""
    connection_id = uuid.uuid4()
    store.connections[connection_id] = {"brand_id": BRAND, "platform": "sandbox", "status": "active"}
    return connection_id


def _body(account: uuid.UUID, **values) -> CreateJob:
    return CreateJob(content="hello", targets=[TargetIn(platform="sandbox", connection_id=account)], **values)


def _require_approval(store: Store, connection_id: uuid.UUID | None = None) -> None:
    store.policies.setdefault(BRAND, []).append(
        PolicyView(uuid.uuid4(), "approval_required", connection_id, None, ("owner", "admin"))
    )


async def _approve(deps, store: Store, job_id: uuid.UUID) -> None:
    job = store.job(job_id)
    decision = Approved(
        approval_id=uuid.uuid4(),
        job_id=job_id,
        round=job.approval_round,
        decided_by="client",
        content_hash=job.round_hash,
    )
    async with FakeUnitOfWork(store) as uow:
        await approvals.on_approved(uow, deps, decision)


# -- create / submit ----------------------------------------------------------------------
async def test_a_new_job_is_a_draft_whose_targets_wait(deps, store, account):
    job_id = await jobs.create_job(deps, EDITOR, _body(account))
    job = store.job(job_id)
    assert job.status == JobStatus.DRAFT and job.approval_round == 0 and not job.approval_required
    assert store.target_statuses(job_id) == [TargetStatus.WAITING]
    assert store.gate_locks == [(BRAND, False)]  # a command that decides the gate takes the shared lock
    assert store.events == []  # nothing is announced before it is submitted


async def test_create_refuses_an_unknown_account_and_a_past_time(deps, store, account, clock):
    with pytest.raises(Invalid) as unknown:
        await jobs.create_job(deps, EDITOR, _body(uuid.uuid4()))
    assert unknown.value.extra["errors"][0]["code"] == "unknown_connection"
    with pytest.raises(Invalid, match="in the past"):
        await jobs.create_job(deps, EDITOR, _body(account, scheduled_at=clock.now() - timedelta(minutes=1)))
    assert store.jobs == {}


async def test_submitting_without_a_gate_makes_it_ready_or_scheduled(deps, store, account, clock):
    ready = await jobs.create_job(deps, EDITOR, _body(account))
    await jobs.submit_job(deps, EDITOR, ready)
    assert store.job(ready).status == JobStatus.READY and store.job(ready).approval_round == 1
    assert store.target_statuses(ready) == [TargetStatus.WAITING]

    at = clock.now() + timedelta(hours=1)
    timed = await jobs.create_job(deps, EDITOR, _body(account, scheduled_at=at))
    await jobs.submit_job(deps, EDITOR, timed)
    assert store.job(timed).status == JobStatus.SCHEDULED
    assert (
        store.targets[timed][0]["status"] == TargetStatus.SCHEDULED
        and store.targets[timed][0]["due_at"] == at
    )
    created = [e for e in store.events if e.type == "publishing.job_created"]
    assert [e.data["requires_approval"] for e in created] == [False, False]


async def test_only_a_draft_or_a_sent_back_job_is_submitted(deps, account):
    job_id = await jobs.create_job(deps, EDITOR, _body(account))
    await jobs.submit_job(deps, EDITOR, job_id)
    with pytest.raises(Conflict, match="only a draft"):
        await jobs.submit_job(deps, EDITOR, job_id)


async def test_a_missing_job_is_not_found(deps):
    with pytest.raises(NotFound) as missing:
        await jobs.submit_job(deps, EDITOR, uuid.uuid4())
    assert problem_of(missing.value).status == 404


# -- the approval gate --------------------------------------------------------------------
async def test_the_author_asking_opens_a_round_and_the_approval_releases_it(deps, store, account, clock):
    at = clock.now() + timedelta(hours=1)
    job_id = await jobs.create_job(deps, EDITOR, _body(account, requires_approval=True, scheduled_at=at))
    await jobs.submit_job(deps, EDITOR, job_id)
    job = store.job(job_id)
    assert job.status == JobStatus.PENDING_APPROVAL and job.approval_round == 1
    assert job.round_hash == job.content_hash and not job.gate_open
    assert store.target_statuses(job_id) == [TargetStatus.WAITING]
    assert store.events[-1].data["requires_approval"] is True

    await _approve(deps, store, job_id)
    job = store.job(job_id)
    assert job.status == JobStatus.SCHEDULED and job.gate_open and job.approved_round == 1
    assert store.target_statuses(job_id) == [TargetStatus.SCHEDULED]


async def test_an_approval_of_an_older_round_or_other_content_changes_nothing(deps, store, account):
    job_id = await jobs.create_job(deps, EDITOR, _body(account, requires_approval=True))
    await jobs.submit_job(deps, EDITOR, job_id)
    await jobs.edit_job(deps, EDITOR, job_id, EditJob(content="hello again"))  # round 2
    assert store.job(job_id).approval_round == 2
    stale = Approved(approval_id=uuid.uuid4(), job_id=job_id, round=1, decided_by="c", content_hash=None)
    other = Approved(approval_id=uuid.uuid4(), job_id=job_id, round=2, decided_by="c", content_hash="x")
    for decision in (stale, other):
        async with FakeUnitOfWork(store) as uow:
            await approvals.on_approved(uow, deps, decision)
    assert store.job(job_id).status == JobStatus.PENDING_APPROVAL and not store.job(job_id).gate_open


async def test_approved_too_late_it_waits_to_be_scheduled_again(deps, store, account, clock):
    at = clock.now() + timedelta(minutes=10)
    job_id = await jobs.create_job(deps, EDITOR, _body(account, requires_approval=True, scheduled_at=at))
    await jobs.submit_job(deps, EDITOR, job_id)
    clock.advance(timedelta(hours=2))  # past the time and the grace window
    await _approve(deps, store, job_id)
    job = store.job(job_id)
    assert job.status == JobStatus.READY and "passed before it could go out" in (job.status_reason or "")
    assert store.target_statuses(job_id) == [TargetStatus.WAITING]


async def test_changes_requested_sends_it_back_to_its_author(deps, store, account):
    job_id = await jobs.create_job(deps, EDITOR, _body(account, requires_approval=True))
    await jobs.submit_job(deps, EDITOR, job_id)
    decision = ChangesRequested(
        approval_id=uuid.uuid4(), job_id=job_id, round=1, decided_by="client", comment="shorter"
    )
    async with FakeUnitOfWork(store) as uow:
        await approvals.on_sent_back(uow, deps, decision)
    job = store.job(job_id)
    assert (
        job.status == JobStatus.CHANGES_REQUESTED
        and job.status_reason == "changes requested by client: shorter"
    )
    await jobs.submit_job(deps, EDITOR, job_id)  # and it may be submitted again
    assert store.job(job_id).approval_round == 2


async def test_a_policy_gates_the_job_and_only_a_waiver_role_may_switch_it_off(deps, store, account):
    _require_approval(store, account)
    job_id = await jobs.create_job(deps, EDITOR, _body(account))
    await jobs.submit_job(deps, EDITOR, job_id)
    assert store.job(job_id).status == JobStatus.PENDING_APPROVAL

    note = await jobs.edit_job(deps, EDITOR, job_id, EditJob(requires_approval=False))
    assert note is not None and "only admin, owner may waive it" in note
    assert not store.job(job_id).gate_open

    assert await jobs.edit_job(deps, ADMIN, job_id, EditJob(requires_approval=False)) is None
    job = store.job(job_id)
    assert job.gate_open and job.approval_waived_by == "ada" and job.status == JobStatus.READY
    assert "publishing.approval_waived" in store.event_types()


async def test_editing_approved_content_asks_again(deps, store, account, clock):
    at = clock.now() + timedelta(hours=1)
    job_id = await jobs.create_job(deps, EDITOR, _body(account, requires_approval=True, scheduled_at=at))
    await jobs.submit_job(deps, EDITOR, job_id)
    await _approve(deps, store, job_id)
    await jobs.edit_job(deps, EDITOR, job_id, EditJob(content="changed after approval"))
    job = store.job(job_id)
    assert job.status == JobStatus.PENDING_APPROVAL and job.approval_round == 2 and not job.gate_open
    assert store.target_statuses(job_id) == [TargetStatus.WAITING]  # nothing unapproved stays due
    assert "publishing.job_edited" in store.event_types()


async def test_a_new_policy_sends_a_released_job_back_for_approval(deps, store, account):
    job_id = await jobs.create_job(deps, EDITOR, _body(account))
    await jobs.submit_job(deps, EDITOR, job_id)
    assert store.job(job_id).status == JobStatus.READY
    _require_approval(store)
    async with FakeUnitOfWork(store) as uow:
        assert await jobs.reassess_brand(uow, deps, BRAND) == 1
    assert store.job(job_id).status == JobStatus.PENDING_APPROVAL


async def test_an_accepted_plan_makes_gated_drafts_once(deps, store, account, clock):
    _require_approval(store, account)
    at = clock.now() + timedelta(days=1)
    plan = PlanAccepted(
        plan_id=uuid.uuid4(),
        accepted_by="ed",
        time_zone="Europe/Berlin",
        slots=[
            PlannedSlot(platform="sandbox", connection_id=account, at=at),
            PlannedSlot(platform="x", at=at),
        ],
    )
    envelope = new_event(plan, brand_id=BRAND, tenant_id=TENANT)
    for _ in range(2):  # a replay past the inbox's dedupe
        async with FakeUnitOfWork(store) as uow:
            await jobs.create_plan_drafts(uow, deps, envelope, plan)
    (draft,) = store.jobs.values()  # one: the slot for no account has nowhere to go
    assert draft.status == JobStatus.DRAFT and draft.tags == [jobs.PLAN_TAG] and draft.scheduled_at == at
    assert draft.approval_required and draft.time_zone == "Europe/Berlin"
    assert store.target_statuses(draft.job_id) == [TargetStatus.WAITING]


# -- time -----------------------------------------------------------------------------------
async def test_scheduling_a_draft_submits_it_and_a_held_account_holds_its_target(deps, store, account, clock):
    store.holds[account] = "connection_expired"
    job_id = await jobs.create_job(deps, EDITOR, _body(account))
    await jobs.schedule_job(deps, EDITOR, job_id, ScheduleJob(scheduled_at=clock.now() + timedelta(hours=1)))
    job = store.job(job_id)
    assert (
        job.status == JobStatus.SCHEDULED
        and job.status_reason == "1 target(s) held: their connection needs attention"
    )
    assert store.targets[job_id][0]["status"] == TargetStatus.HELD
    assert store.targets[job_id][0]["held_reason"] == "connection_expired"


async def test_publish_now_needs_an_open_gate(deps, store, account, clock):
    gated = await jobs.create_job(deps, EDITOR, _body(account, requires_approval=True))
    await jobs.submit_job(deps, EDITOR, gated)
    with pytest.raises(Conflict, match="needs approval") as refused:
        await jobs.publish_now(deps, EDITOR, gated)
    assert refused.value.extra["approval_reason"] and problem_of(refused.value).status == 409

    open_ = await jobs.create_job(deps, EDITOR, _body(account))
    await jobs.publish_now(deps, EDITOR, open_)
    job = store.job(open_)
    assert job.status == JobStatus.SCHEDULED and job.scheduled_at == clock.now()
    assert store.targets[open_][0]["next_attempt_at"] == clock.now()


# -- cancel / delete / restore ----------------------------------------------------------------
async def test_cancel_ends_the_job_and_its_targets_once(deps, store, account):
    job_id = await jobs.create_job(deps, EDITOR, _body(account))
    await jobs.submit_job(deps, EDITOR, job_id)
    await jobs.cancel_job(deps, EDITOR, job_id, "not this week")
    job = store.job(job_id)
    assert job.status == JobStatus.CANCELLED and job.status_reason == "not this week"
    assert store.target_statuses(job_id) == [TargetStatus.CANCELLED]
    assert store.event_types()[-1] == "publishing.job_cancelled"
    for change in (
        jobs.cancel_job(deps, EDITOR, job_id, None),
        jobs.edit_job(deps, EDITOR, job_id, EditJob(content="x")),
    ):
        with pytest.raises(Conflict, match="no longer"):
            await change


async def test_a_deleted_job_stops_and_is_restorable_within_the_window(deps, store, account, clock):
    job_id = await jobs.create_job(
        deps, EDITOR, _body(account, scheduled_at=clock.now() + timedelta(hours=1))
    )
    await jobs.submit_job(deps, EDITOR, job_id)
    await jobs.delete_job(deps, EDITOR, job_id)
    job = store.job(job_id)
    assert job.deleted_at == clock.now() and job.status == JobStatus.DRAFT
    assert store.target_statuses(job_id) == [TargetStatus.WAITING]
    assert store.event_types()[-1] == "publishing.job_cancelled"
    with pytest.raises(NotFound):  # a deleted job is hidden from the commands
        await jobs.submit_job(deps, EDITOR, job_id)
    await jobs.restore_job(deps, EDITOR, job_id)
    assert store.job(job_id).deleted_at is None

    await jobs.delete_job(deps, EDITOR, job_id)
    clock.advance(timedelta(days=31))
    with pytest.raises(Gone) as gone:
        await jobs.restore_job(deps, EDITOR, job_id)
    assert problem_of(gone.value).status == 410


async def test_a_refused_command_writes_nothing(deps, store, account):
    job_id = await jobs.create_job(deps, EDITOR, _body(account))
    before = store.job(job_id)
    with pytest.raises(Invalid):
        await jobs.edit_job(
            deps, EDITOR, job_id, EditJob(targets=[TargetIn(platform="sandbox", connection_id=uuid.uuid4())])
        )
    assert store.job(job_id).version == before.version and deps.uow.opened[-1].committed is False


# -- the aggregate itself -------------------------------------------------------------------
def _job(status: JobStatus) -> Job:
    now = NOW
    return Job(
        job_id=uuid.uuid4(),
        brand_id=BRAND,
        tenant_id=TENANT,
        author_id="ed",
        content="",
        tags=[],
        media_ids=[],
        scheduled_at=None,
        time_zone=None,
        requires_approval=False,
        content_hash="h",
        approval_required=False,
        approval_reason=None,
        max_retries=3,
        created_at=now,
        updated_at=now,
        status=status,
    )


@pytest.mark.parametrize("status", sorted(FINISHED_JOB))
def test_a_finished_job_goes_nowhere(status):
    job = _job(status)
    with pytest.raises(Conflict):
        job.cancel(None)
    with pytest.raises(IllegalTransition):
        job.send_back("late decision")
    assert job.changes == {} and job.status == status and JOB_TRANSITIONS[status] == frozenset()


def test_a_publishing_job_can_be_neither_released_nor_deleted():
    job = _job(JobStatus.PUBLISHING)
    with pytest.raises(IllegalTransition):
        job.release(NOW, timedelta(hours=1))
    with pytest.raises(Conflict, match="wait until it finishes"):
        job.delete(NOW)


def test_a_target_that_went_out_stays_out_and_a_cancelled_one_is_not_rescheduled():
    with pytest.raises(IllegalTransition):
        check_target_transition(TargetStatus.PUBLISHED, TargetStatus.SCHEDULED)
    with pytest.raises(IllegalTransition):
        check_target_transition(TargetStatus.CANCELLED, TargetStatus.SCHEDULED)
    check_target_transition(TargetStatus.FAILED, TargetStatus.PUBLISHED)  # a late success is a fact
