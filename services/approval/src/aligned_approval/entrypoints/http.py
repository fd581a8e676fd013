"""HTTP API: translate requests, call a handler, translate the answer."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime, EmailStr, ValidationError

from aligned_approval.domain.decisions import Status
from aligned_approval.domain.escalation import RuleIn
from aligned_approval.entrypoints import pages
from aligned_approval.entrypoints.schemas import (
    DECISION_BODY,
    UNSUBSCRIBE_BODY,
    ClientSettingsIn,
    DecisionIn,
    LinkIn,
    PolicyIn,
    RoundPatch,
    invalid,
)
from aligned_approval.service_layer import audit, clients, decisions, links, policies, queries, rules
from aligned_approval.service_layer.deps import Deps
from aligned_common.app import dependency
from aligned_common.identity import Caller, Origin, current_origin
from aligned_common.problems import Problem, problem_responses

# Every route reaches the service through its one dependencies object (bootstrap.build()).
Service = Annotated[Deps, Depends(dependency(Deps))]
router = APIRouter(prefix="/v1")
public = APIRouter()  # no login: the signed token in the path is the authority
# A link that was revoked, used or has expired (a browser gets it as a page).
LINK_GONE = problem_responses(410)


# -- approval rounds -----------------------------------------------------------------------
@router.get("/approvals")
async def list_approvals(
    identity: Caller,
    svc: Service,
    status: Status | None = None,
    reviewer: str | None = Query(default=None, description="A user id, or 'me'"),
    min_age_hours: float | None = Query(default=None, ge=0, le=24 * 365 * 10),
    cursor: str | None = None,
    limit: int = Query(default=50, ge=1, le=200),
) -> dict[str, Any]:
    items, next_cursor = await queries.list_rounds(
        svc.uows,
        identity,
        status=status.value if status else None,
        reviewer=reviewer,
        min_age_hours=min_age_hours,
        cursor=cursor,
        limit=limit,
        now=svc.clock.now(),
    )
    return {"items": items, "next_cursor": next_cursor}


@router.get("/approvals/{approval_id}")
async def get_approval(
    svc: Service,
    approval_id: uuid.UUID,
    identity: Caller,
) -> dict[str, Any]:
    return await queries.get_round(svc.uows, identity, approval_id)


@router.get("/jobs/{job_id}/approvals")
async def job_rounds(
    svc: Service,
    job_id: uuid.UUID,
    identity: Caller,
) -> dict[str, Any]:
    return {"items": await queries.rounds_of_job(svc.uows, identity, job_id)}


@router.post("/approvals/{approval_id}/decision")
async def decide(
    svc: Service,
    approval_id: uuid.UUID,
    body: DecisionIn,
    identity: Caller,
) -> dict[str, Any]:
    return await decisions.decide_as_member(
        svc.uows,
        identity,
        approval_id,
        body.decision,
        body.comment,
        base_url=svc.base_url,
    )


@router.patch("/approvals/{approval_id}")
async def edit_round(
    svc: Service,
    approval_id: uuid.UUID,
    body: RoundPatch,
    identity: Caller,
) -> dict[str, Any]:
    return await decisions.update_round(
        svc.uows, identity, approval_id, note=body.note, approver_users=body.approver_users
    )


@router.get("/reviewers")
async def list_reviewers(svc: Service, identity: Caller) -> dict[str, Any]:
    return {"items": await queries.reviewers(svc.uows, identity)}


# -- review links --------------------------------------------------------------------------
@router.post("/approvals/{approval_id}/links", status_code=201)
async def create_link(
    svc: Service,
    approval_id: uuid.UUID,
    body: LinkIn,
    identity: Caller,
) -> dict[str, Any]:
    return await links.create_link(
        svc.uows,
        identity,
        approval_id,
        recipient=str(body.recipient) if body.recipient else None,
        expires_in_hours=body.expires_in_hours or svc.settings.review_link_ttl_hours,
        secret=svc.secret,
        base_url=svc.base_url,
        now=svc.clock.now(),
    )


@router.delete("/approvals/{approval_id}/links/{link_id}", status_code=204)
async def revoke_link(
    svc: Service,
    approval_id: uuid.UUID,
    link_id: uuid.UUID,
    identity: Caller,
) -> Response:
    await links.revoke_link(svc.uows, identity, approval_id, link_id)
    return Response(status_code=204)


@public.get("/review/assets/pages.css", include_in_schema=False)
async def page_stylesheet() -> Response:
    """The client pages' one stylesheet (the CSP allows styles from us only)."""
    return pages.stylesheet()


@public.get("/review/{token}", response_model=None, responses=LINK_GONE)
async def review_page(svc: Service, token: str, request: Request) -> Any:
    """Shows the round the link is for; changes nothing (mail scanners fetch links)."""
    return await pages.answer(
        request, links.view(svc.uows, token, secret=svc.secret, now=svc.clock.now()), pages.review
    )


@public.post("/review/{token}", response_model=None, responses=LINK_GONE, openapi_extra=DECISION_BODY)
async def review_decide(
    svc: Service,
    token: str,
    request: Request,
    _origin: Origin | None = Depends(current_origin),
) -> Any:
    """The decision: a JSON body, or the review page's form. The client's address and user agent
    (signed by the gateway) go with the decision's event into the audit trail."""

    async def work() -> dict[str, Any]:
        try:
            body = DecisionIn.model_validate(await pages.form_or_json(request))
        except ValidationError as exc:
            raise invalid(exc) from None
        return await links.decide(
            svc.uows,
            token,
            body.decision,
            body.comment or None,
            secret=svc.secret,
            base_url=svc.base_url,
            now=svc.clock.now(),
        )

    return await pages.answer(request, work(), pages.review_decided)


# -- policies ------------------------------------------------------------------------------
@router.get("/policies")
async def list_policies(svc: Service, identity: Caller) -> dict[str, Any]:
    return {"items": await policies.list_all(svc.uows, identity)}


@router.put("/policies")
async def put_policy(svc: Service, body: PolicyIn, identity: Caller) -> dict[str, Any]:
    return await policies.put(svc.uows, identity, **body.model_dump(mode="python"))


@router.get("/policies/effective")
async def effective_policy(
    identity: Caller,
    svc: Service,
    connection_id: uuid.UUID | None = None,
    user_id: str | None = None,
) -> dict[str, Any]:
    return await policies.effective(svc.uows, identity, connection_id, user_id)


@router.delete("/policies/{policy_id}", status_code=204)
async def delete_policy(
    svc: Service,
    policy_id: uuid.UUID,
    identity: Caller,
) -> Response:
    await policies.delete(svc.uows, identity, policy_id)
    return Response(status_code=204)


# -- escalation rules ----------------------------------------------------------------------
@router.post("/escalation-rules", status_code=201)
async def create_rule(svc: Service, body: RuleIn, identity: Caller) -> dict[str, Any]:
    return await rules.create(svc.uows, identity, body)


@router.get("/escalation-rules")
async def list_rules(svc: Service, identity: Caller) -> dict[str, Any]:
    return {"items": await rules.list_all(svc.uows, identity)}


@router.get("/escalation-rules/{rule_id}")
async def get_rule(
    svc: Service,
    rule_id: uuid.UUID,
    identity: Caller,
) -> dict[str, Any]:
    return await rules.get(svc.uows, identity, rule_id)


@router.put("/escalation-rules/{rule_id}")
async def replace_rule(
    svc: Service,
    rule_id: uuid.UUID,
    body: RuleIn,
    identity: Caller,
) -> dict[str, Any]:
    return await rules.replace(svc.uows, identity, rule_id, body)


@router.delete("/escalation-rules/{rule_id}", status_code=204)
async def delete_rule(
    svc: Service,
    rule_id: uuid.UUID,
    identity: Caller,
) -> Response:
    await rules.delete(svc.uows, identity, rule_id)
    return Response(status_code=204)


# -- client settings and unsubscribe -------------------------------------------------------
@router.get("/client-settings")
async def list_client_settings(svc: Service, identity: Caller) -> dict[str, Any]:
    rows = await clients.list_clients(svc.uows, identity)
    return {"items": [clients.present(r, svc.secret, svc.base_url) for r in rows]}


@router.get("/client-settings/{email}")
async def get_client_settings(svc: Service, email: EmailStr, identity: Caller) -> dict[str, Any]:
    row = await clients.get_client(svc.uows, identity, str(email))
    return clients.present(row, svc.secret, svc.base_url)


@router.put("/client-settings/{email}")
async def put_client_settings(
    svc: Service,
    email: EmailStr,
    body: ClientSettingsIn,
    identity: Caller,
) -> dict[str, Any]:
    preferences = body.preferences.model_dump(exclude_none=True) if body.preferences else None
    types = [k.value for k in body.unsubscribed_types] if body.unsubscribed_types is not None else None
    row = await clients.put_client(
        svc.uows,
        identity,
        str(email),
        preferences=preferences,
        time_zone=body.time_zone,
        subscribed=body.subscribed,
        unsubscribed_types=types,
        language=body.language,
    )
    return clients.present(row, svc.secret, svc.base_url)


@router.get("/client-settings/{email}/mails")
async def client_mails(
    identity: Caller,
    svc: Service,
    email: EmailStr,
    limit: int = Query(default=100, ge=1, le=500),
) -> dict[str, Any]:
    """The mails to this address, newest first, with what became of each: sent, suppressed
    (preferences, unsubscribe, reminder frequency), held (over the daily limit), folded (into
    the digest `folded_into`)."""
    return {"items": await clients.mails_of(svc.uows, identity, str(email), limit=limit)}


@router.delete("/client-settings/{email}/unsubscribe-tokens", status_code=204)
async def revoke_unsubscribe_tokens(svc: Service, email: EmailStr, identity: Caller) -> Response:
    await clients.revoke_tokens(svc.uows, identity, str(email))
    return Response(status_code=204)


@public.get("/unsubscribe/{token}", response_model=None, responses=LINK_GONE)
async def unsubscribe_page(svc: Service, token: str, request: Request) -> Any:
    """What a POST to this link would stop; changes nothing (mail scanners fetch links)."""
    work = clients.preview_unsubscribe(svc.uows, token, secret=svc.secret)
    return await pages.answer(request, work, pages.unsubscribe_preview)


@public.post("/unsubscribe/{token}", response_model=None, responses=LINK_GONE, openapi_extra=UNSUBSCRIBE_BODY)
async def unsubscribe(
    svc: Service,
    token: str,
    request: Request,
    _origin: Origin | None = Depends(current_origin),
) -> Any:
    """Unsubscribes; works one-click (RFC 8058: the body `List-Unsubscribe=One-Click`, no page
    needed). `scope` is "kind" (the mail's kind, the default) or "all". The client's address and
    user agent (signed by the gateway) go with the change's event into the audit trail."""

    async def work() -> dict[str, Any]:
        scope = (await pages.form_or_json(request)).get("scope")
        if scope is not None and not isinstance(scope, str):
            raise Problem(
                422,
                "Invalid request",
                detail="invalid fields: scope",
                errors=[{"field": "scope", "message": "one of kind, all"}],
            )
        return await clients.unsubscribe(svc.uows, token, secret=svc.secret, scope=scope)

    return await pages.answer(request, work(), pages.unsubscribed)


# -- audit trail ---------------------------------------------------------------------------
@router.get("/audit-logs")
async def audit_logs(
    identity: Caller,
    svc: Service,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: AwareDatetime | None = Query(default=None, alias="from"),
    until: AwareDatetime | None = Query(default=None, alias="to"),
    cursor: str | None = None,
    limit: int = Query(default=100, ge=1, le=500),
) -> dict[str, Any]:
    items, next_cursor = await audit.query(
        svc.uows,
        identity,
        entity_type=entity_type,
        entity_id=entity_id,
        actor=actor,
        action=action,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    return {"items": items, "next_cursor": next_cursor}


def all_routes() -> APIRouter:
    combined = APIRouter()
    combined.include_router(router)
    combined.include_router(public)
    return combined
