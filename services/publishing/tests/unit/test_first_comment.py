"""First comments at create and edit time, on the in-memory fakes: each target's own or the
job's, refused (422 naming the field) where the platform cannot post one or the text does not
fit, and part of what an approval covers."""

from __future__ import annotations

import hashlib
import uuid

import orjson
import pytest

from aligned_common.identity import Identity
from aligned_publishing.domain.commands import CreateJob, EditJob, TargetIn
from aligned_publishing.domain.errors import Invalid
from aligned_publishing.domain.gate import Outgoing, content_hash
from aligned_publishing.service_layer import jobs
from aligned_testing.clock import StillClock

from .fakes import NOW, Store, fake_deps

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


def comments_of(store: Store, job_id: uuid.UUID) -> list[str | None]:
    return [t["first_comment"] for t in store.targets[job_id]]


async def test_the_jobs_first_comment_goes_to_every_target_unless_one_has_its_own(deps, store):
    sandbox, mastodon, bluesky = (connect(store, p) for p in ("sandbox", "mastodon", "bluesky"))
    body = CreateJob(
        content="launch day",
        first_comment="details: https://example.com",
        targets=[
            TargetIn(platform="sandbox", connection_id=sandbox),
            TargetIn(platform="mastodon", connection_id=mastodon, first_comment="on Mastodon: the thread"),
            TargetIn(platform="bluesky", connection_id=bluesky, first_comment=""),  # none here
        ],
    )
    job_id = await jobs.create_job(deps, EDITOR, body)
    assert comments_of(store, job_id) == ["details: https://example.com", "on Mastodon: the thread", None]


async def test_a_platform_that_cannot_post_a_first_comment_is_refused_naming_the_field(deps, store):
    sandbox, x = connect(store, "sandbox"), connect(store, "x")
    body = CreateJob(
        content="hello",
        first_comment="more below",
        targets=[
            TargetIn(platform="sandbox", connection_id=sandbox),
            TargetIn(platform="x", connection_id=x),
        ],
    )
    with pytest.raises(Invalid) as refused:
        await jobs.create_job(deps, EDITOR, body)
    assert [(e["field"], e["code"]) for e in refused.value.extra["errors"]] == [
        ("targets[1].first_comment", "not_supported")
    ]
    assert store.jobs == {}


async def test_a_first_comment_too_long_for_its_platform_is_refused(deps, store):
    mastodon = connect(store, "mastodon")
    body = CreateJob(
        content="short",
        targets=[TargetIn(platform="mastodon", connection_id=mastodon, first_comment="a" * 501)],
    )
    with pytest.raises(Invalid) as refused:
        await jobs.create_job(deps, EDITOR, body)
    assert [(e["field"], e["code"]) for e in refused.value.extra["errors"]] == [
        ("targets[0].first_comment", "text_too_long")
    ]


async def test_editing_the_first_comment_changes_what_an_approval_covers(deps, store):
    sandbox = connect(store, "sandbox")
    job_id = await jobs.create_job(
        deps, EDITOR, CreateJob(content="hi", targets=[TargetIn(platform="sandbox", connection_id=sandbox)])
    )
    before = store.job(job_id).content_hash

    await jobs.edit_job(deps, EDITOR, job_id, EditJob(first_comment="a comment"))
    with_comment = store.job(job_id).content_hash
    await jobs.edit_job(deps, EDITOR, job_id, EditJob(first_comment=""))

    assert comments_of(store, job_id) == [None]
    assert with_comment != before and store.job(job_id).content_hash == before


def test_a_job_without_a_first_comment_keeps_the_hash_it_always_had():
    # Hashes are stored with approvals: adding the comment to the hash must not change the others.
    outgoing = Outgoing(uuid.UUID(int=1), "sandbox", "hello", ())
    before_first_comments = hashlib.sha256(orjson.dumps([[str(uuid.UUID(int=1)), "sandbox", "hello", []]]))
    assert content_hash([outgoing]) == before_first_comments.hexdigest()
