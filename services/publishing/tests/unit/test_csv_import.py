"""CSV import's rules on the in-memory fakes: the file's columns, each row's problems named by
column, another brand's connections refused per row, the dry run creating nothing, the real run
creating every valid row once (a re-upload creates nothing twice), and submit going through the
approval gate."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from aligned_common.identity import Identity
from aligned_common.platforms import MediaInfo
from aligned_publishing.domain.errors import Invalid, TooLarge
from aligned_publishing.domain.gate import PolicyView
from aligned_publishing.domain.imports import parse_csv
from aligned_publishing.domain.status import JobStatus
from aligned_publishing.service_layer import imports
from aligned_testing.clock import StillClock

from .fakes import NOW, Store, fake_deps

pytestmark = pytest.mark.unit

BRAND, OTHER, TENANT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
EDITOR = Identity(TENANT, BRAND, "ed", "editor")
LATER = (NOW + timedelta(days=2)).replace(tzinfo=None).isoformat()  # a local time, with time_zone


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def deps(store):
    return fake_deps(store, StillClock(NOW), import_chunk_rows=2)  # several chunks in a short file


def _account(
    store: Store, brand: uuid.UUID = BRAND, platform: str = "sandbox", status: str = "active"
) -> uuid.UUID:
    connection_id = uuid.uuid4()
    store.connections[connection_id] = {"brand_id": brand, "platform": platform, "status": status}
    return connection_id


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _problems(report, row: int) -> dict[str, str]:
    (found,) = [r for r in report.rows if r.row == row]
    return {p["column"]: p["message"] for p in found.problems}


async def test_a_dry_run_reports_each_row_by_column_and_creates_nothing(deps, store) -> None:
    mine, theirs = _account(store), _account(store, OTHER)
    gone = _account(store, status="disconnected")
    data = _csv(
        "text,targets,scheduled_at,time_zone,tags",
        f"hello,{mine},{LATER},Europe/Berlin,launch;spring",
        f"theirs,{theirs},,,",
        f"gone,{gone},,,",
        f"when,{mine},yesterday,,",
        f"past,{mine},2020-01-01T10:00:00+00:00,,",
        "no targets,,,,",
        f"zone,{mine},{LATER},Mars/Olympus,",
        f"{'x' * 1001},{mine},,,",  # the sandbox takes 1000 characters
    )
    report = await imports.import_csv(deps, EDITOR, data, dry_run=True)

    assert [r.status for r in report.rows] == ["valid"] + ["invalid"] * 7
    assert [r.row for r in report.rows] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert _problems(report, 3).keys() == {"targets"} and _problems(report, 4).keys() == {"targets"}
    assert (
        str(theirs) in _problems(report, 3)["targets"] and "disconnected" in _problems(report, 4)["targets"]
    )
    assert _problems(report, 5).keys() == {"scheduled_at"}
    assert "in the past" in _problems(report, 6)["scheduled_at"]
    assert _problems(report, 7).keys() == {"targets"}
    assert _problems(report, 8).keys() == {"time_zone"}
    assert _problems(report, 9).keys() == {"text"}
    assert store.jobs == {} and store.import_rows == {}


async def test_the_real_run_creates_every_valid_row_as_a_draft_once(deps, store) -> None:
    mine, other_account, theirs = (
        _account(store),
        _account(store, platform="mastodon"),
        _account(store, OTHER),
    )
    data = _csv(
        f"text,targets,text:mastodon,text:{mine},scheduled_at,time_zone,tags,first_comment",
        f"one,{mine};{other_account},for mastodon,,{LATER},Europe/Berlin,a;b,first!",
        f"two,{theirs},,,,,,",
        f"three,{mine},,own text,,,,",
    )
    report = await imports.import_csv(deps, EDITOR, data, dry_run=False)
    assert [(r.row, r.status) for r in report.rows] == [(2, "created"), (3, "invalid"), (4, "created")]

    first = store.job(report.rows[0].job_id)
    assert first.status == JobStatus.DRAFT and first.author_id == "ed"
    assert first.tags == ["csv-import", "a", "b"] and first.time_zone == "Europe/Berlin"
    assert first.scheduled_at is not None and first.scheduled_at > NOW
    texts = {t["connection_id"]: t["text_variant"] for t in store.targets[first.job_id]}
    assert texts == {mine: None, other_account: "for mastodon"}
    third = store.targets[report.rows[2].job_id]
    assert [t["text_variant"] for t in third] == ["own text"]
    (comment,) = [r.first_comment for r in store.import_rows.values() if r.row == 2]
    assert comment == "first!"

    again = await imports.import_csv(deps, EDITOR, data, dry_run=False)
    assert [(r.row, r.status) for r in again.rows] == [
        (2, "already_imported"),
        (3, "invalid"),
        (4, "already_imported"),
    ]
    assert [r.job_id for r in again.rows] == [r.job_id for r in report.rows]
    assert len(store.jobs) == 2


async def test_the_same_rows_in_another_file_or_brand_are_new_jobs(deps, store) -> None:
    mine = _account(store)
    first = await imports.import_csv(deps, EDITOR, _csv("text,targets", f"a,{mine}"), dry_run=False)
    second = await imports.import_csv(
        deps, EDITOR, _csv("text,targets", f"a,{mine}", f"b,{mine}"), dry_run=False
    )
    assert [r.status for r in second.rows] == ["created", "created"]
    assert first.rows[0].job_id != second.rows[0].job_id and len(store.jobs) == 3


async def test_submit_sends_each_created_job_through_the_gate(deps, store) -> None:
    mine, gated = _account(store), _account(store)
    store.policies[BRAND] = [PolicyView(uuid.uuid4(), "approval_required", connection_id=gated)]
    data = _csv(
        "text,targets,scheduled_at,time_zone", f"free,{mine},{LATER},UTC", f"gated,{gated},{LATER},UTC"
    )
    report = await imports.import_csv(deps, EDITOR, data, dry_run=False, submit=True)
    free, held = (store.job(r.job_id) for r in report.rows)
    assert free.status == JobStatus.SCHEDULED
    assert held.status == JobStatus.PENDING_APPROVAL and held.approval_required
    assert store.event_types().count("publishing.job_created") == 2


async def test_the_file_itself_is_refused_naming_the_column(deps, store) -> None:
    with pytest.raises(Invalid) as unknown:
        await imports.import_csv(deps, EDITOR, _csv("text,targets,colour", "a,b,c"), dry_run=True)
    assert unknown.value.extra["errors"][0]["field"] == "colour"
    with pytest.raises(Invalid) as missing:
        await imports.import_csv(deps, EDITOR, _csv("text", "a"), dry_run=True)
    assert missing.value.extra["errors"][0]["field"] == "targets"
    with pytest.raises(Invalid) as binary:
        await imports.import_csv(deps, EDITOR, b"text,targets\n\xff\xfe,x\n", dry_run=True)
    assert binary.value.extra["errors"][0]["field"] == "file"
    with pytest.raises(Invalid):
        await imports.import_csv(deps, EDITOR, b"", dry_run=True)


async def test_too_many_rows_or_bytes_are_refused(store) -> None:
    deps = fake_deps(store, StillClock(NOW), import_max_rows=2, import_max_bytes=200)
    with pytest.raises(Invalid):
        await imports.import_csv(deps, EDITOR, _csv("text,targets", "a,b", "c,d", "e,f"), dry_run=True)
    with pytest.raises(TooLarge):
        await imports.import_csv(deps, EDITOR, b"text,targets\n" + b"x" * 300, dry_run=True)


def test_cells_are_parsed_as_documented() -> None:
    ids = [uuid.uuid4(), uuid.uuid4()]
    (row,) = parse_csv(
        "\ufefftargets,media_ids,requires_approval,tags\n"
        f'"{ids[0]}; {ids[1]};{ids[0]}",{ids[1]},yes,"x; y"\n'.encode(),
        max_rows=10,
    )
    assert row.targets == ids and row.media_ids == [ids[1]]  # BOM dropped, duplicates once
    assert row.requires_approval and row.tags == ["x", "y"] and row.problems == []
    (bad,) = parse_csv(b"targets,requires_approval\nnope,maybe\n", max_rows=10)
    assert {p["column"] for p in bad.problems} == {"targets", "requires_approval"}


async def test_media_by_id_must_be_the_brands_and_is_attached(deps, store) -> None:
    mine = _account(store)
    photo, foreign = uuid.uuid4(), uuid.uuid4()
    store.media[photo] = (BRAND, MediaInfo(mime_type="image/jpeg", size_bytes=1000), "")
    store.media[foreign] = (OTHER, MediaInfo(mime_type="image/jpeg", size_bytes=1000), "")
    data = _csv("text,targets,media_ids", f"ok,{mine},{photo}", f"theirs,{mine},{foreign}")
    report = await imports.import_csv(deps, EDITOR, data, dry_run=False)
    assert [r.status for r in report.rows] == ["created", "invalid"]
    assert _problems(report, 3).keys() == {"media_ids"}
    job = store.job(report.rows[0].job_id)
    assert job.media_ids == [photo] and store.media_usage[job.job_id] == {photo}


async def test_a_row_for_a_platform_with_a_required_option_is_refused_in_the_targets_column(
    deps, store
) -> None:
    # The CSV has no options column (ADR 0032): a TikTok row cannot say its privacy level.
    tiktok = _account(store, platform="tiktok")
    media_id = uuid.uuid4()
    store.media[media_id] = (BRAND, MediaInfo(mime_type="video/mp4", size_bytes=1000, duration_s=10), "")
    report = await imports.import_csv(
        deps, EDITOR, _csv("text,targets,media_ids", f"clip,{tiktok},{media_id}"), dry_run=True
    )
    problems = _problems(report, 2)
    assert problems.keys() == {"targets"} and "privacy_level" in problems["targets"]
