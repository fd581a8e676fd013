"""The gateway's own routes: development tokens, brands and members, aggregated reads,
the live event stream and the merged OpenAPI document. Entry points only translate."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from aligned_common.app import dependency
from aligned_common.identity import Identity
from aligned_common.problems import Problem, problem_responses
from aligned_gateway.adapters.jwt_verifier import issue_token
from aligned_gateway.domain.claims import Claims
from aligned_gateway.entrypoints import schemas as s
from aligned_gateway.service_layer import admin, aggregates
from aligned_gateway.service_layer.deps import Deps

router = APIRouter()


def identity_of(request: Request) -> Identity:
    return request.state.identity  # set by the pipeline for every brand-scoped route


def claims_of(request: Request) -> Claims:
    return request.state.claims


Who = Annotated[Identity, Depends(identity_of)]
Bearer = Annotated[Claims, Depends(claims_of)]
Service = Annotated[Deps, Depends(dependency(Deps))]


# -- development tokens ---------------------------------------------------------------------
@router.post("/v1/dev/token", response_model=s.TokenOut, tags=["development"], openapi_extra={"security": []})
async def dev_token(body: s.DevTokenIn, deps: Service) -> s.TokenOut:
    """Short-lived HS256 tokens for local runs and the demo; 404 unless switched on."""
    settings = deps.settings
    if not settings.dev_tokens_enabled or not settings.jwt_secret:
        raise Problem(404, "Not found", detail="the development token issuer is switched off")
    ttl = body.ttl_s or settings.dev_token_ttl_s
    token = issue_token(
        secret=settings.jwt_secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        subject=body.sub,
        tenant_id=body.tenant_id,
        brand_ids=body.brand_ids,
        role=body.role,
        email=body.email,
        ttl_s=ttl,
    )
    return s.TokenOut(access_token=token, expires_in=ttl)


# -- brands and members -----------------------------------------------------------------------
@router.post("/v1/brands", status_code=201, response_model=s.BrandOut, tags=["brands"])
async def create_brand(body: s.BrandIn, claims: Bearer, deps: Service) -> dict:
    email = body.owner_email or claims.email
    if not email:
        raise Problem(
            422,
            "Invalid request",
            detail="invalid fields: owner_email",
            errors=[{"field": "owner_email", "message": "required when the token has no email"}],
        )
    return await admin.create_brand(deps.admin, claims, body.name, body.time_zone, str(email))


@router.get("/v1/me/brands", response_model=list[s.BrandOut], tags=["brands"])
async def my_brands(claims: Bearer, deps: Service) -> list[dict]:
    return await admin.my_brands(deps.admin, claims)


@router.post("/v1/brands/{brand_id}/archive", response_model=s.BrandOut, tags=["brands"])
async def archive_brand(brand_id: uuid.UUID, identity: Who, deps: Service) -> dict:
    return await admin.archive_brand(deps.admin, identity, brand_id)


@router.get("/v1/members", response_model=s.MemberPage, tags=["members"])
async def list_members(
    identity: Who, deps: Service, cursor: str | None = None, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> dict:
    return await admin.list_members(deps.admin, identity, cursor, limit)


@router.post("/v1/invites", status_code=201, response_model=s.InviteOut, tags=["members"])
async def invite(body: s.InviteIn, identity: Who, deps: Service) -> dict:
    return await admin.invite(deps.admin, identity, str(body.email), body.role)


@router.post(
    "/v1/invites/accept",
    status_code=201,
    response_model=s.MemberOut,
    tags=["members"],
    responses=problem_responses(404),
)  # no such invite (or it expired)
async def accept_invite(body: s.AcceptIn, claims: Bearer, deps: Service) -> dict:
    return await admin.accept_invite(deps.admin, claims, body.token)


@router.patch("/v1/members/{member_id}", response_model=s.MemberOut, tags=["members"])
async def change_role(member_id: uuid.UUID, body: s.RoleIn, identity: Who, deps: Service) -> dict:
    return await admin.change_role(deps.admin, identity, member_id, body.role)


@router.delete("/v1/members/{member_id}", status_code=204, tags=["members"])
async def remove_member(member_id: uuid.UUID, identity: Who, deps: Service) -> Response:
    await admin.remove_member(deps.admin, identity, member_id)
    return Response(status_code=204)


# -- aggregated reads ---------------------------------------------------------------------------
@router.get("/v1/dashboard", response_model=s.Dashboard, tags=["aggregated reads"])
async def dashboard(
    request: Request,
    identity: Who,
    deps: Service,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
) -> dict:
    """Calendar with approval state and per-target status, connection health and the
    analytics summary; `degraded` names services that did not answer in time."""
    return await aggregates.dashboard(deps.fanout, identity, request.state.request_id, start, end)


@router.get("/v1/posts/{job_id}", response_model=s.PostDetail, tags=["aggregated reads"])
async def post_detail(request: Request, job_id: uuid.UUID, identity: Who, deps: Service) -> dict:
    """The job, its approval rounds, publish attempts and metrics in one answer."""
    return await aggregates.post_detail(deps.fanout, identity, request.state.request_id, job_id)


# -- OpenAPI ------------------------------------------------------------------------------------
@router.get("/openapi.json", include_in_schema=False)
async def openapi(deps: Service) -> JSONResponse:
    return JSONResponse(deps.openapi)


@router.get("/docs", include_in_schema=False)
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Aligned API")
