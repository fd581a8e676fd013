"""HTTP API: translate requests into handler calls and rows into responses. No rules here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile

from aligned_common.app import dependency
from aligned_common.identity import Caller, Identity, require_role
from aligned_common.problems import problem_responses
from aligned_publishing.domain.commands import CancelJob, CreateJob, EditJob, ScheduleJob
from aligned_publishing.domain.errors import TooLarge
from aligned_publishing.domain.status import JobStatus
from aligned_publishing.entrypoints import calendar_http, feeds_http
from aligned_publishing.entrypoints.schemas import (
    ChangeQuota,
    CompleteUpload,
    DescribeMedia,
    ImportReportOut,
    JobOut,
    JobPage,
    MediaOut,
    MediaUsageOut,
    QuotaOut,
    StartUpload,
    UploadOut,
    import_report_out,
    job_out,
    media_out,
)
from aligned_publishing.service_layer import imports, jobs, media, queries
from aligned_publishing.service_layer.deps import Deps

router = APIRouter(prefix="/v1")
WRITERS = ("owner", "admin", "editor")

Service = Annotated[Deps, Depends(dependency(Deps))]


async def _job(deps: Deps, identity: Identity, job_id: uuid.UUID, with_log: bool = True) -> JobOut:
    job, targets, logs = await queries.get_job(deps, identity, job_id)
    return job_out(job, targets, logs if with_log else None)


# -- jobs ----------------------------------------------------------------------------------
@router.post("/jobs", status_code=201, response_model=JobOut)
async def create_job(body: CreateJob, identity: Caller, deps: Service) -> JobOut:
    require_role(identity, *WRITERS)
    return await _job(deps, identity, await jobs.create_job(deps, identity, body))


@router.patch("/jobs/{job_id}", response_model=JobOut)
async def edit_job(job_id: uuid.UUID, body: EditJob, identity: Caller, deps: Service) -> JobOut:
    require_role(identity, *WRITERS)
    note = await jobs.edit_job(deps, identity, job_id, body)
    return (await _job(deps, identity, job_id)).model_copy(update={"approval_note": note})


@router.post("/jobs/{job_id}/submit", response_model=JobOut)
async def submit_job(job_id: uuid.UUID, identity: Caller, deps: Service) -> JobOut:
    require_role(identity, *WRITERS)
    await jobs.submit_job(deps, identity, job_id)
    return await _job(deps, identity, job_id)


@router.post("/jobs/{job_id}/schedule", response_model=JobOut)
@router.post("/jobs/{job_id}/reschedule", response_model=JobOut, name="reschedule_job")
async def schedule_job(job_id: uuid.UUID, body: ScheduleJob, identity: Caller, deps: Service) -> JobOut:
    require_role(identity, *WRITERS)
    await jobs.schedule_job(deps, identity, job_id, body)
    return await _job(deps, identity, job_id)


@router.post("/jobs/{job_id}/publish-now", response_model=JobOut)
async def publish_now(job_id: uuid.UUID, identity: Caller, deps: Service) -> JobOut:
    require_role(identity, *WRITERS)
    await jobs.publish_now(deps, identity, job_id)
    return await _job(deps, identity, job_id)


@router.post("/jobs/{job_id}/cancel", response_model=JobOut)
async def cancel_job(
    job_id: uuid.UUID, identity: Caller, deps: Service, body: CancelJob | None = None
) -> JobOut:
    require_role(identity, *WRITERS)
    await jobs.cancel_job(deps, identity, job_id, body.reason if body else None)
    return await _job(deps, identity, job_id)


@router.delete("/jobs/{job_id}", status_code=204)
async def delete_job(job_id: uuid.UUID, identity: Caller, deps: Service) -> Response:
    require_role(identity, *WRITERS)
    await jobs.delete_job(deps, identity, job_id)
    return Response(status_code=204)


@router.post("/jobs/{job_id}/restore", response_model=JobOut, responses=problem_responses(410))
async def restore_job(job_id: uuid.UUID, identity: Caller, deps: Service) -> JobOut:
    require_role(identity, *WRITERS)
    await jobs.restore_job(deps, identity, job_id)
    return await _job(deps, identity, job_id)


@router.get("/jobs", response_model=JobPage)
async def list_jobs(
    identity: Caller,
    deps: Service,
    start: Annotated[
        datetime | None, Query(alias="from", description="calendar range start (inclusive)")
    ] = None,
    end: Annotated[datetime | None, Query(alias="to", description="calendar range end (exclusive)")] = None,
    status: Annotated[list[JobStatus] | None, Query()] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="full-text search over content and tags")
    ] = None,
    deleted: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> JobPage:
    page = await queries.list_jobs(
        deps,
        identity,
        queries.JobFilter(
            start=start,
            end=end,
            statuses=tuple(s.value for s in status or ()),
            q=q or None,
            deleted=deleted,
            limit=limit,
            cursor=cursor,
        ),
    )
    return JobPage(
        items=[job_out(j, page.targets[j["job_id"]]) for j in page.jobs], next_cursor=page.next_cursor
    )


@router.get("/jobs/{job_id}", response_model=JobOut)
async def get_job(job_id: uuid.UUID, identity: Caller, deps: Service) -> JobOut:
    return await _job(deps, identity, job_id)


# -- media ---------------------------------------------------------------------------------
# Uploads are refused by size (413) and by what their bytes are (415); bytes the brand
# already has answer 200 with that asset instead of 201.
MEDIA_IN = problem_responses(413, 415)
SAME_ASSET: dict[int | str, dict] = {
    200: {"model": MediaOut, "description": "The brand already has these bytes"}
}


@router.post("/media", status_code=201, response_model=MediaOut, responses=MEDIA_IN | SAME_ASSET)
async def upload_media(
    identity: Caller,
    deps: Service,
    response: Response,
    file: UploadFile = File(...),
    alt_text: str = Form(
        "", description="What the image or video shows, for screen readers (max 1500 characters)"
    ),
) -> MediaOut:
    require_role(identity, *WRITERS)
    # The upload is spooled to a temporary file by the framework; it is read in chunks from there.
    uploaded = await media.upload(deps, identity, file.filename, file.content_type, file.file, alt_text)
    if not uploaded.created:
        response.status_code = 200  # the brand already has these bytes: same asset back
    return media_out(await media.with_urls(deps, uploaded.asset))


@router.post("/media/uploads", status_code=201, response_model=UploadOut, responses=MEDIA_IN)
async def start_upload(body: StartUpload, identity: Caller, deps: Service) -> UploadOut:
    """Large files: a presigned PUT (or, for big videos, one presigned PUT per part) straight to
    the object store, then `complete`."""
    require_role(identity, *WRITERS)
    return UploadOut(**await media.start_upload(deps, identity, **body.model_dump()))


@router.post(
    "/media/uploads/{upload_id}/complete",
    status_code=201,
    response_model=MediaOut,
    responses=MEDIA_IN | SAME_ASSET,
)
async def complete_upload(
    upload_id: uuid.UUID,
    identity: Caller,
    deps: Service,
    response: Response,
    body: CompleteUpload | None = None,
) -> MediaOut:
    require_role(identity, *WRITERS)
    parts = [p.model_dump() for p in body.parts] if body is not None and body.parts is not None else None
    uploaded = await media.complete_upload(deps, identity, upload_id, parts)
    if not uploaded.created:
        response.status_code = 200
    return media_out(await media.with_urls(deps, uploaded.asset))


@router.get("/media", response_model=list[MediaOut])
async def list_media(
    identity: Caller,
    deps: Service,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: uuid.UUID | None = None,
) -> list[MediaOut]:
    return [
        media_out(await media.with_urls(deps, row))
        for row in await media.list_media(deps, identity, limit, before)
    ]


@router.get("/media/{media_id}", response_model=MediaOut)
async def get_media(media_id: uuid.UUID, identity: Caller, deps: Service) -> MediaOut:
    return media_out(await media.with_urls(deps, await media.get_media(deps, identity, media_id)))


@router.get("/media/{media_id}/usage", response_model=list[MediaUsageOut])
async def media_usage(media_id: uuid.UUID, identity: Caller, deps: Service) -> list[MediaUsageOut]:
    return [MediaUsageOut(**row) for row in await media.media_usage(deps, identity, media_id)]


@router.patch("/media/{media_id}", response_model=MediaOut)
async def describe_media(
    media_id: uuid.UUID, body: DescribeMedia, identity: Caller, deps: Service
) -> MediaOut:
    require_role(identity, *WRITERS)
    return media_out(
        await media.with_urls(deps, await media.describe_media(deps, identity, media_id, body.alt_text))
    )


@router.delete("/media/{media_id}", status_code=204)
async def delete_media(media_id: uuid.UUID, identity: Caller, deps: Service) -> Response:
    require_role(identity, *WRITERS)
    await media.delete_media(deps, identity, media_id)
    return Response(status_code=204)


@router.get("/media-quota", response_model=QuotaOut)
async def quota(identity: Caller, deps: Service) -> QuotaOut:
    return QuotaOut(**await media.quota_usage(deps, identity))


@router.patch("/media-quota", response_model=QuotaOut)
async def change_quota(body: ChangeQuota, identity: Caller, deps: Service) -> QuotaOut:
    require_role(identity, "owner", "admin")
    return QuotaOut(**await media.set_quota(deps, identity, body.quota_bytes))


# -- CSV import ------------------------------------------------------------------------------
CSV_BODY = {
    "requestBody": {
        "required": True,
        "description": "The CSV file (UTF-8, a header row); the columns (publishing's domain/imports.py): text, text:<connection id or platform>, targets, scheduled_at, time_zone, "
        "media_ids, first_comment, tags, requires_approval.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The body, refused (413) as soon as it passes `limit`, before it is all read."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise TooLarge(f"the file has more than {limit} bytes", limit=limit)
    return bytes(data)


@router.post(
    "/imports",
    response_model=ImportReportOut,
    responses=problem_responses(413),
    openapi_extra=CSV_BODY,
)
async def import_posts(
    request: Request,
    identity: Caller,
    deps: Service,
    dry_run: Annotated[bool, Query(description="true: only report each row; create nothing")] = False,
    submit: Annotated[
        bool, Query(description="true: submit each created job (through approval where required)")
    ] = False,
) -> ImportReportOut:
    """A CSV file of posts: one draft job per valid row, and a report of every row (valid, or its
    problems by column). Importing the same file again creates nothing twice."""
    require_role(identity, *WRITERS)
    data = await _bounded_body(request, deps.settings.import_max_bytes)
    return import_report_out(await imports.import_csv(deps, identity, data, dry_run=dry_run, submit=submit))


def all_routes() -> APIRouter:
    """The service's routes: /v1, feed subscriptions and the public calendar feed."""
    combined = APIRouter()
    combined.include_router(router)
    combined.include_router(calendar_http.router)
    combined.include_router(feeds_http.router)
    return combined
