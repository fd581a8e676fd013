"""CSV import of posts: a dry run reports each row (valid, or its problems by column); the real
run creates a draft job for every valid row and reports the rest (issue 24).

A row is checked as `POST /v1/jobs` checks a job (the same domain rules: the brand's own
connections from our projection, its own media, content fit, a time in the future) and its job
is gated the same way (domain/gate.py). The file is handled in chunks, one unit of work each,
so a file of 10,000 rows is not one long transaction; each chunk writes its jobs in a few
statements (adapters/imports_repo.py).

Idempotent per (brand, file hash, row): a chunk first claims its valid rows (`uow.imports.claim`)
and creates jobs only for the rows no earlier import of the same bytes claimed, so a re-upload,
a retry after a crash half-way, or the same file twice at once creates nothing twice.

`submit=True` submits each created job in the same transaction, exactly as POST
/v1/jobs/{id}/submit would: through approval where the gate says so (ADR 0006), else ready
or scheduled at its time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aligned_common.identity import Identity
from aligned_common.known_connections import problem_with
from aligned_common.platforms import MediaInfo
from aligned_publishing.domain.content_fit import FitError, TargetDraft, check_job_fits
from aligned_publishing.domain.errors import TooLarge
from aligned_publishing.domain.gate import PolicyView, content_hash, evaluate
from aligned_publishing.domain.imports import FileError, ImportRow, file_hash, parse_csv
from aligned_publishing.domain.job import Job
from aligned_publishing.service_layer.deps import Deps
from aligned_publishing.service_layer.errors import invalid
from aligned_publishing.service_layer.jobs import _gated, _outgoing, _submit
from aligned_publishing.service_layer.ports import ImportedRow, UnitOfWork

IMPORT_TAG = "csv-import"  # every imported job carries it, besides the row's own tags


@dataclass
class RowReport:
    row: int
    status: str  # valid (dry run) | created | already_imported | invalid
    job_id: uuid.UUID | None = None
    problems: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ImportReport:
    file_hash: str
    dry_run: bool
    rows: list[RowReport]

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)


async def import_csv(
    deps: Deps, identity: Identity, data: bytes, *, dry_run: bool, submit: bool = False
) -> ImportReport:
    settings = deps.settings
    if len(data) > settings.import_max_bytes:
        raise TooLarge(
            f"the file has more than {settings.import_max_bytes} bytes", limit=settings.import_max_bytes
        )
    try:
        rows = parse_csv(data, max_rows=settings.import_max_rows)
    except FileError as exc:
        raise invalid(exc.column or "file", exc.message) from None
    digest = file_hash(data)
    # Two chunks at a time, each on its own connection: one chunk's rows are checked (Python)
    # while the other's statements run in the database. No transaction holds the keys of two
    # chunks, so two imports of the same file wait on each other's rows but never deadlock.
    running = asyncio.Semaphore(2)

    async def one(chunk: Sequence[ImportRow]) -> list[RowReport]:
        async with running, deps.uow(identity.brand_id) as uow:
            return await _import_chunk(uow, deps, identity, digest, chunk, dry_run, submit)

    done = await asyncio.gather(*(one(c) for c in _chunks(rows, settings.import_chunk_rows)))
    return ImportReport(digest, dry_run, [report for chunk in done for report in chunk])


def _chunks(rows: Sequence[ImportRow], size: int) -> Iterator[Sequence[ImportRow]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def _import_chunk(
    uow: UnitOfWork,
    deps: Deps,
    identity: Identity,
    digest: str,
    chunk: Sequence[ImportRow],
    dry_run: bool,
    submit: bool,
) -> list[RowReport]:
    brand_id, now = identity.brand_id, deps.clock.now()
    if not dry_run:
        await _gated(uow, brand_id)  # the gate is decided below, as a command decides it
    known = await uow.connections.known(brand_id, list({c for row in chunk for c in row.targets}))
    media, fitted = await uow.media.infos(brand_id, list({m for row in chunk for m in row.media_ids}))
    policies = await uow.policies.of_brand(brand_id)
    made: dict[int, tuple[Job, list[TargetDraft]]] = {}
    comments = {row.row: row.first_comment for row in chunk}
    for row in chunk:
        targets = _targets(row, known)
        if not row.problems:
            _check_row(row, targets, media, fitted, now)
        if not row.problems:
            job = _job(row, targets, policies, deps, identity, digest, now)
            made[row.row] = (job, targets)
    if dry_run:
        return [_report(row, "valid", made) for row in chunk]

    claimed = await uow.imports.claim(
        brand_id,
        digest,
        [ImportedRow(n, job.job_id, comments[n]) for n, (job, _) in made.items()],
        now,
    )
    new = [made[n] for n in sorted(claimed)]
    await uow.imports.add_jobs([job for job, _ in new], {job.job_id: t for job, t in new}, now)
    if submit:
        for job, _ in new:
            await _submit(uow, deps, job, now)
            await uow.jobs.save(job, now)
    return [_report(row, "created" if row.row in claimed else "already_imported", made) for row in chunk]


def _report(row: ImportRow, done: str, made: Mapping[int, tuple[Job, list[TargetDraft]]]) -> RowReport:
    if row.problems:
        return RowReport(row.row, "invalid", problems=row.problems)
    return RowReport(row.row, done, job_id=made[row.row][0].job_id)


def _targets(row: ImportRow, known: Mapping[uuid.UUID, Any]) -> list[TargetDraft]:
    """The row's accounts, each with its own text if the row gives one. An id of another brand,
    one that does not exist and one disconnected read the same (no existence leak)."""
    targets = []
    for connection_id in row.targets:
        connection = known.get(connection_id)
        problem = problem_with(connection, connection_id)
        if problem is not None or connection is None:
            row.problem("targets", problem[1] if problem else f"no connection {connection_id}")
            continue
        platform = str(connection["platform"])
        targets.append(TargetDraft(platform, connection_id, row.text_for(connection_id, platform)))
    return targets


def _check_row(
    row: ImportRow,
    targets: list[TargetDraft],
    media: Mapping[uuid.UUID, MediaInfo],
    fitted: Mapping[tuple[uuid.UUID, str], MediaInfo],
    now: datetime,
) -> None:
    for error in check_job_fits(row.text, row.media_ids, targets, media, fitted):
        row.problem(_column(error, targets), error.message)
    if row.scheduled_at is not None and row.scheduled_at <= now:
        row.problem("scheduled_at", f"{row.scheduled_at.isoformat()} is in the past (now {now.isoformat()})")


def _column(error: FitError, targets: list[TargetDraft]) -> str:
    """The CSV column a job field's error is about (targets[1].text -> text:<that account>)."""
    if error.field.startswith("media_ids") or ".media" in error.field:
        return "media_ids"
    if error.field.startswith("targets[") and error.field.endswith(("connection_id", "platform")):
        return "targets"
    if ".platform_options." in error.field:
        return "targets"  # the CSV has no options column (ADR 0032): the account cannot take the row
    if error.field.startswith("targets["):
        target = targets[int(error.field[len("targets[") : error.field.index("]")])]
        if target.text is not None:
            return f"text:{target.connection_id}"
    return "text"


def _job(
    row: ImportRow,
    targets: list[TargetDraft],
    policies: Sequence[PolicyView],
    deps: Deps,
    identity: Identity,
    digest: str,
    now: datetime,
) -> Job:
    """The row's job as `create_job` makes one: a draft, with the gate assessed from our copy of
    the policies (and again on submit)."""
    gate = evaluate(policies, [t.connection_id for t in targets], identity.user_id, row.requires_approval)
    return Job(
        job_id=row.job_id(identity.brand_id, digest),
        brand_id=identity.brand_id,
        tenant_id=identity.tenant_id,
        author_id=identity.user_id,
        content=row.text,
        tags=list(dict.fromkeys([IMPORT_TAG, *row.tags])),
        media_ids=list(row.media_ids),
        scheduled_at=row.scheduled_at,
        time_zone=row.time_zone,
        requires_approval=row.requires_approval,
        content_hash=content_hash(_outgoing(row.text, row.media_ids, targets)),
        approval_required=gate.required,
        approval_reason=gate.reason,
        max_retries=deps.settings.default_max_retries,
        created_at=now,
        updated_at=now,
    )
