"""HTTP for client report links: /v1/reports/links (owners and admins, through the gateway's
login) and the report itself, /report/{token} (the token is the credential; the gateway routes
it without a login, as /review)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from aligned_analytics.domain.report_links import DEFAULT_TTL_DAYS, MAX_TTL_DAYS
from aligned_analytics.entrypoints import report_page
from aligned_analytics.service_layer import client_report
from aligned_analytics.service_layer.deps import Deps
from aligned_common.app import dependency
from aligned_common.identity import Caller
from aligned_common.problems import problem_responses

router = APIRouter(tags=["reports"])
Service = Annotated[Deps, Depends(dependency(Deps))]
# An unknown token is a 404; a revoked or expired one a 410 (a browser gets either as a page).
LINK_GONE = problem_responses(404, 410)
PAGE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}, "application/json": {}}, "description": "the report (per Accept)"}
}


class ReportLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: date | None = Field(
        default=None, alias="from", description="First day (brand's time zone); default: 29 days before `to`"
    )
    to: date | None = Field(default=None, description="Last day (inclusive); default: today")
    platforms: list[str] = Field(
        default_factory=list, max_length=20, description="Only these platforms; empty: every platform"
    )
    goal_ids: list[uuid.UUID] | None = Field(
        default=None, max_length=50, description="Only these goals; omit for every goal of the brand"
    )
    language: Literal["en", "de"] = Field(default="en", description="The language the client reads")
    expires_in_days: int = Field(default=DEFAULT_TTL_DAYS, ge=1, le=MAX_TTL_DAYS)


class ReportLinkOut(BaseModel):
    link_id: uuid.UUID
    from_: date = Field(alias="from")
    to: date
    platforms: list[str]
    goal_ids: list[uuid.UUID] | None
    language: str
    created_by: str
    created_at: str
    expires_at: str
    revoked_at: str | None = None


class NewReportLinkOut(ReportLinkOut):
    url: str = Field(
        description="the report's secret path on the gateway (/report/<token>), shown only now; "
        "revoke the link to end it"
    )


@router.post(
    "/v1/reports/links", status_code=201, response_model=NewReportLinkOut, responses=problem_responses(403)
)
async def create_report_link(body: ReportLinkIn, identity: Caller, svc: Service) -> dict[str, Any]:
    request = client_report.LinkRequest(
        first_day=body.from_,
        last_day=body.to,
        platforms=body.platforms,
        goal_ids=body.goal_ids,
        language=body.language,
        expires_in_days=body.expires_in_days,
    )
    return await client_report.create_link(
        svc.uows, identity, request, max_days=svc.settings.max_range_days, now=svc.clock.now()
    )


@router.get("/v1/reports/links", responses=problem_responses(403))
async def list_report_links(identity: Caller, svc: Service) -> dict[str, list[ReportLinkOut]]:
    """The brand's report links, revoked and expired ones too (never their tokens)."""
    links = await client_report.list_links(svc.uows, identity)
    return {"items": [ReportLinkOut.model_validate(link) for link in links]}


@router.delete("/v1/reports/links/{link_id}", status_code=204, responses=problem_responses(403, 404))
async def revoke_report_link(link_id: uuid.UUID, identity: Caller, svc: Service) -> Response:
    await client_report.revoke_link(svc.uows, identity, link_id, now=svc.clock.now())
    return Response(status_code=204)


@router.get("/report/assets/report.css", include_in_schema=False)
async def report_stylesheet() -> Response:
    """The report page's one stylesheet (the CSP allows styles from us only)."""
    return report_page.stylesheet()


@router.get("/report/{token}", response_model=None, responses=PAGE | LINK_GONE)
async def client_report_page(
    token: Annotated[str, Path(min_length=20, max_length=100)], request: Request, svc: Service
) -> Any:
    """The report a link shows: totals and a trend per platform, top posts, goals; read-only."""
    work = client_report.report(svc.uows, svc.replica, token, now=svc.clock.now())
    return await report_page.answer(request, work)
