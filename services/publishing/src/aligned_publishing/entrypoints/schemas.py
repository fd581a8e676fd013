"""Response bodies of the HTTP API, built from rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
from pydantic import BaseModel, Field

from aligned_publishing.adapters.jobs_repo import alt_text_variant, comment_of, platform_options_of
from aligned_publishing.domain.gate import approved_for_current


class FirstCommentOut(BaseModel):
    """A target's first comment and its own fate: it is published after the post, as a reply."""

    text: str
    status: str = Field(
        description="waiting (the post is not out yet), scheduled (a retry is due), publishing, "
        "published or failed"
    )
    attempts: int
    next_attempt_at: datetime | None
    remote_id: str | None
    url: str | None
    last_error: str | None
    platform_message: str | None


class TargetOut(BaseModel):
    target_id: uuid.UUID
    platform: str
    connection_id: uuid.UUID
    text: str | None
    media_ids: list[uuid.UUID] | None
    alt_texts: dict[uuid.UUID, str] | None = None
    status: str
    attempts: int
    next_attempt_at: datetime | None
    held_reason: str | None
    remote_id: str | None
    url: str | None
    last_error: str | None
    platform_message: str | None
    first_comment: FirstCommentOut | None = None
    platform_options: dict[str, str | bool] | None = Field(
        default=None, description="This account's per-platform fields, as checked against the catalogue"
    )


class AttemptOut(BaseModel):
    target_id: uuid.UUID
    attempt: int
    idempotency_key: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    remote_id: str | None
    url: str | None
    error: str | None
    platform_message: str | None
    retry_at: datetime | None
    rechecks: int


class GuardrailWarningOut(BaseModel):
    """A brand kit rule of level `warn` that the job's text broke: kept, and shown to approvers."""

    field: str = Field(description="content, targets[i].text or targets[i].first_comment")
    rule: str = Field(description="e.g. banned_term:cheap, required_disclosure:#ad, hashtag_limit")
    level: str
    start: int = Field(description="text[start:end] is what the rule found (code points)")
    end: int
    message: str


class JobOut(BaseModel):
    job_id: uuid.UUID
    status: str
    status_reason: str | None
    author_id: str
    content: str
    tags: list[str]
    media_ids: list[uuid.UUID]
    scheduled_at: datetime | None
    time_zone: str | None
    scheduled_local: str | None  # scheduled_at as wall-clock time in time_zone
    requires_approval: bool  # the author asked for approval
    approval_required: bool  # the gate: the author asked, or a policy says so
    approval_reason: str | None  # why, naming the policy
    content_hash: str | None  # of what goes out; an approval covers one hash
    approval_round: int
    approved: bool  # approved (or waived) for exactly the current content
    approval_waived_by: str | None
    approval_waived_at: datetime | None
    retry_count: int
    max_retries: int
    last_error: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    targets: list[TargetOut]
    guardrail_warnings: list[GuardrailWarningOut] = Field(
        default_factory=list, description="the brand kit's warn rules this job's texts broke"
    )
    attempts: list[AttemptOut] | None = None
    approval_note: str | None = None  # on an edit: what was not applied and why


class JobPage(BaseModel):
    items: list[JobOut]
    next_cursor: str | None


class VariantOut(BaseModel):
    """A copy fitted to a platform's limits (aspect ratio, bytes): what that platform is sent."""

    mime_type: str
    size_bytes: int
    sha256: str
    width: int
    height: int
    url: str = Field(description="short-lived (presigned)")


class MediaOut(BaseModel):
    media_id: uuid.UUID
    sha256: str
    mime_type: str
    size_bytes: int
    duration_s: float | None
    video_codec: str | None = None
    original_name: str | None
    created_at: datetime
    thumbnail_url: str | None = None  # a still image's preview, short-lived (presigned)
    alt_text: str = ""
    variants: dict[str, VariantOut] = Field(
        default_factory=dict,
        description="platform -> the variant it is sent; a platform not listed gets the original",
    )
    usage_count: int = Field(
        default=0, description="jobs the asset is attached to now (history: GET .../usage)"
    )


class MediaUsageOut(BaseModel):
    job_id: uuid.UUID
    action: str = Field(description="attached, detached or published")
    at: datetime


class StartUpload(BaseModel):
    filename: str | None = Field(default=None, max_length=255)
    mime_type: str = Field(min_length=3, max_length=100, examples=["video/mp4"])
    size_bytes: int = Field(gt=0)
    sha256: str = Field(
        pattern="^[0-9a-f]{64}$", description="of the file, lowercase hex; checked on complete"
    )
    alt_text: str = ""
    multipart: bool | None = Field(
        default=None,
        description="true: upload in parts (one presigned URL each); default: parts above 64 MiB",
    )


class PartOut(BaseModel):
    part_number: int
    url: str = Field(description="PUT bytes [(part_number - 1) * part_size, part_number * part_size) here")


class UploadOut(BaseModel):
    upload_id: uuid.UUID
    upload_url: str | None = Field(
        description="PUT the file's bytes here, with `headers`, before expires_at; "
        "null for a multipart upload"
    )
    method: str
    headers: dict[str, str]
    expires_at: datetime
    part_size: int | None = Field(
        default=None, description="a multipart upload's part size (the last may be smaller)"
    )
    parts: list[PartOut] = Field(default_factory=list, description="a multipart upload's presigned part URLs")


class PartIn(BaseModel):
    part_number: int = Field(ge=1, le=10_000)
    etag: str = Field(
        min_length=1, max_length=200, description="the ETag header the store answered the part's PUT with"
    )


class CompleteUpload(BaseModel):
    parts: list[PartIn] | None = Field(
        default=None,
        description="a multipart upload's parts; optional (the store's list is used and must match)",
    )


class ChangeQuota(BaseModel):
    quota_bytes: int = Field(ge=0, le=10 * 1024**4, description="the brand's media storage quota in bytes")


class DescribeMedia(BaseModel):
    alt_text: str = Field(
        description="What the image or video shows, for screen readers (max 1500 characters)"
    )


class QuotaOut(BaseModel):
    quota_bytes: int
    used_bytes: int
    assets: int


def target_out(row) -> TargetOut:
    return TargetOut(
        target_id=row["target_id"],
        platform=row["platform"],
        connection_id=row["connection_id"],
        text=row["text_variant"],
        media_ids=row["media_variant"],
        alt_texts=alt_text_variant(row),
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        held_reason=row["held_reason"],
        remote_id=row["remote_id"],
        url=row["url"],
        last_error=row["last_error"],
        platform_message=row["platform_message"],
        first_comment=_first_comment_out(comment_of(row)),
        platform_options=platform_options_of(row),
    )


def _first_comment_out(comment: dict | None) -> FirstCommentOut | None:
    if comment is None:
        return None
    return FirstCommentOut(**{k: comment[k] for k in FirstCommentOut.model_fields})


def _guardrail_warnings(job) -> list[GuardrailWarningOut]:
    raw = job.get("guardrail_warnings") if hasattr(job, "get") else None
    if not raw:
        return []
    return [GuardrailWarningOut(**w) for w in (orjson.loads(raw) if isinstance(raw, str) else raw)]


def job_out(job, targets, logs=None) -> JobOut:
    local = None
    if job["scheduled_at"] and job["time_zone"]:
        local = job["scheduled_at"].astimezone(ZoneInfo(job["time_zone"])).isoformat()
    return JobOut(
        **{
            k: job[k]
            for k in (
                "job_id",
                "status",
                "status_reason",
                "author_id",
                "content",
                "scheduled_at",
                "time_zone",
                "requires_approval",
                "approval_required",
                "approval_reason",
                "content_hash",
                "approval_waived_by",
                "approval_waived_at",
                "approval_round",
                "retry_count",
                "max_retries",
                "last_error",
                "version",
                "created_at",
                "updated_at",
                "deleted_at",
            )
        },
        tags=list(job["tags"]),
        media_ids=list(job["media_ids"]),
        scheduled_local=local,
        approved=approved_for_current(job["approved_hash"], job["content_hash"]),
        targets=[target_out(t) for t in targets],
        guardrail_warnings=_guardrail_warnings(job),
        attempts=[AttemptOut(**{k: log[k] for k in AttemptOut.model_fields}) for log in logs]
        if logs is not None
        else None,
    )


def media_out(row: dict) -> MediaOut:
    return MediaOut(**{k: row[k] for k in MediaOut.model_fields if k in row})


# -- CSV import (POST /v1/imports) ---------------------------------------------------------
class ImportProblemOut(BaseModel):
    column: str = Field(description="the CSV column the problem is in ('' for the row as a whole)")
    message: str


class ImportRowOut(BaseModel):
    row: int = Field(description="the row's number as a spreadsheet shows it (the header is row 1)")
    status: str = Field(
        description="valid (a dry run's row that would be created), created, already_imported "
        "(an earlier import of the same file created it) or invalid"
    )
    job_id: uuid.UUID | None = Field(
        default=None, description="the row's draft job (derived from the file and row)"
    )
    problems: list[ImportProblemOut] = Field(default_factory=list)


class ImportReportOut(BaseModel):
    file_hash: str = Field(
        description="sha256 of the file: with the row, what makes a row's import idempotent"
    )
    dry_run: bool
    total: int
    valid: int = Field(description="rows a dry run would create")
    created: int
    already_imported: int
    invalid: int
    rows: list[ImportRowOut]


def import_report_out(report) -> ImportReportOut:
    return ImportReportOut(
        file_hash=report.file_hash,
        dry_run=report.dry_run,
        total=len(report.rows),
        valid=report.count("valid"),
        created=report.count("created"),
        already_imported=report.count("already_imported"),
        invalid=report.count("invalid"),
        rows=[
            ImportRowOut(
                row=r.row,
                status=r.status,
                job_id=r.job_id,
                problems=[ImportProblemOut(**p) for p in r.problems],
            )
            for r in report.rows
        ],
    )
