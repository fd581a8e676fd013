"""A target's platform_options at create and edit time, on the in-memory fakes: checked against
the catalogue (422 naming `targets[i].platform_options.<name>`), stored, and part of what an
approval covers."""

from __future__ import annotations

import uuid

import pytest

from aligned_common.identity import Identity
from aligned_common.platforms import MediaInfo
from aligned_publishing.domain.commands import CreateJob, EditJob, TargetIn
from aligned_publishing.domain.errors import Invalid
from aligned_publishing.domain.gate import Outgoing, content_hash
from aligned_publishing.domain.status import JobStatus
from aligned_publishing.service_layer import jobs
from aligned_testing.clock import StillClock

from .fakes import NOW, Store, fake_deps
from .test_job_lifecycle import _approve

pytestmark = pytest.mark.unit

BRAND, TENANT = uuid.uuid4(), uuid.uuid4()
EDITOR = Identity(TENANT, BRAND, "ed", "editor")


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def deps(store):
    return fake_deps(store, StillClock(NOW))


def connect(store: Store, platform: str) -> uuid.UUID:
    connection_id = uuid.uuid4()
    store.connections[connection_id] = {"brand_id": BRAND, "platform": platform, "status": "active"}
    return connection_id


def video(store: Store) -> uuid.UUID:
    media_id = uuid.uuid4()
    store.media[media_id] = (BRAND, MediaInfo(mime_type="video/mp4", size_bytes=1000, duration_s=10), "")
    return media_id


def refusals(exc: pytest.ExceptionInfo[Invalid]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in exc.value.extra["errors"]]


async def test_a_tiktok_target_without_a_privacy_level_is_refused_naming_the_field(deps, store):
    tiktok = connect(store, "tiktok")
    body = CreateJob(
        content="behind the scenes",
        media_ids=[video(store)],
        targets=[TargetIn(platform="tiktok", connection_id=tiktok, platform_options={"disable_duet": True})],
    )
    with pytest.raises(Invalid) as refused:
        await jobs.create_job(deps, EDITOR, body)
    assert refusals(refused) == [("targets[0].platform_options.privacy_level", "required")]
    assert store.jobs == {}


async def test_unknown_names_bad_values_and_wrong_types_are_each_named(deps, store):
    sandbox, youtube = connect(store, "sandbox"), connect(store, "youtube")
    body = CreateJob(
        content="tour",
        media_ids=[video(store)],
        targets=[
            TargetIn(platform="sandbox", connection_id=sandbox, platform_options={"visibilty": "public"}),
            TargetIn(
                platform="youtube",
                connection_id=youtube,
                platform_options={"title": "Tour", "privacy": "friends", "made_for_kids": 0},
            ),
        ],
    )
    with pytest.raises(Invalid) as refused:
        await jobs.create_job(deps, EDITOR, body)
    assert refusals(refused) == [
        ("targets[0].platform_options.visibilty", "unknown_option"),
        ("targets[1].platform_options.privacy", "not_allowed"),
        ("targets[1].platform_options.made_for_kids", "wrong_type"),
    ]


async def test_options_are_stored_with_their_target_and_kept_by_an_edit_of_the_text(deps, store):
    tiktok = connect(store, "tiktok")
    options = {"privacy_level": "SELF_ONLY", "disable_comment": True}
    body = CreateJob(
        content="behind the scenes",
        media_ids=[video(store)],
        targets=[TargetIn(platform="tiktok", connection_id=tiktok, platform_options=options)],
    )
    job_id = await jobs.create_job(deps, EDITOR, body)
    await jobs.edit_job(deps, EDITOR, job_id, EditJob(content="behind the scenes, take two"))
    assert [t["platform_options"] for t in store.targets[job_id]] == [options]


async def test_changing_the_options_of_an_approved_post_asks_for_approval_again(deps, store):
    sandbox = connect(store, "sandbox")

    def target(visibility: str) -> TargetIn:
        return TargetIn(
            platform="sandbox", connection_id=sandbox, platform_options={"visibility": visibility}
        )

    job_id = await jobs.create_job(
        deps, EDITOR, CreateJob(content="hi", requires_approval=True, targets=[target("public")])
    )
    await jobs.submit_job(deps, EDITOR, job_id)
    await _approve(deps, store, job_id)
    assert store.job(job_id).status == JobStatus.READY

    await jobs.edit_job(deps, EDITOR, job_id, EditJob(targets=[target("private")]))

    job = store.job(job_id)
    assert job.status == JobStatus.PENDING_APPROVAL and job.approval_round == 2 and not job.gate_open
    (created,) = [e for e in store.events if e.type == "publishing.job_created" and e.data["round"] == 2]
    assert created.data["targets"][0]["platform_options"] == {"visibility": "private"}


def test_a_target_without_options_keeps_the_hash_it_always_had():
    plain = Outgoing(uuid.UUID(int=1), "sandbox", "hello", ())
    assert content_hash([plain]) == content_hash(
        [Outgoing(uuid.UUID(int=1), "sandbox", "hello", (), None, {})]
    )
    ordered = Outgoing(uuid.UUID(int=1), "sandbox", "hello", (), None, {"a": "1", "b": True})
    reordered = Outgoing(uuid.UUID(int=1), "sandbox", "hello", (), None, {"b": True, "a": "1"})
    assert content_hash([ordered]) == content_hash([reordered]) != content_hash([plain])
