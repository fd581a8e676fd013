"""Translate a request, call a handler, translate its answer; the app maps domain errors."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, Field

from aligned_common.app import dependency
from aligned_common.events.engagement import ConversationState, ItemKind
from aligned_common.identity import Identity, current_identity, require_role
from aligned_common.problems import problem_responses
from aligned_engagement.domain.errors import Invalid
from aligned_engagement.domain.model import Item
from aligned_engagement.domain.replies import Reply
from aligned_engagement.domain.templates import Template
from aligned_engagement.service_layer import inbox, replies, sla, templates
from aligned_engagement.service_layer.deps import Deps
from aligned_engagement.service_layer.ports import InboxFilter

router = APIRouter(prefix="/v1/engagement")
Service = Annotated[Deps, Depends(dependency(Deps))]
Caller = Annotated[Identity, Depends(current_identity)]
# PostgreSQL's text cannot hold NUL: refused here as a 422 naming the field, never a 500 there.
NO_NUL = r"^[^\x00]*$"
STAFF = ("owner", "admin", "editor")  # who works the inbox (the gateway's engagement.write)
READERS = (*STAFF, "viewer")


class ItemOut(BaseModel):
    id: uuid.UUID
    connection_id: uuid.UUID
    platform: str
    kind: ItemKind
    platform_item_id: str
    remote_post_id: str | None
    parent_id: str | None
    author_name: str
    text: str
    rating: int | None
    language: str | None
    url: str | None
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    received_at: datetime
    sources: list[str] = Field(description="which paths delivered it: webhook, poll")
    state: ConversationState
    assignee_id: str | None
    first_response_at: datetime | None
    sla_breached_at: datetime | None

    @classmethod
    def of(cls, item: Item) -> ItemOut:
        return cls.model_validate(item, from_attributes=True)


class ReplyOut(BaseModel):
    id: uuid.UUID
    item_id: uuid.UUID
    text: str
    template_id: uuid.UUID | None
    status: Literal["pending", "sent", "failed"]
    remote_id: str | None
    error: str | None
    requested_by: str | None
    created_at: datetime
    settled_at: datetime | None

    @classmethod
    def of(cls, reply: Reply) -> ReplyOut:
        return cls.model_validate(reply, from_attributes=True)


class ItemPage(BaseModel):
    items: list[ItemOut]
    next_cursor: str | None


class ItemDetailOut(ItemOut):
    history: list[dict[str, object]]
    replies: list[ReplyOut]


class StateIn(BaseModel):
    state: Literal["open", "assigned", "done", "spam"]
    assignee_id: str | None = Field(default=None, min_length=1, max_length=200, pattern=NO_NUL)


class BulkStateIn(StateIn):
    item_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)


class ReplyIn(BaseModel):
    text: str | None = Field(default=None, min_length=1, max_length=5000, pattern=NO_NUL)
    template_id: uuid.UUID | None = None


class TemplateIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    body: str = Field(min_length=1, max_length=5000, pattern=NO_NUL)
    variants: dict[
        Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]{2})?$")],
        Annotated[str, Field(max_length=5000, pattern=NO_NUL)],
    ] = Field(
        default_factory=dict,
        max_length=50,
        description='language -> body, e.g. {"de": "Danke, {reviewer_name}!"}',
    )


class TemplateOut(BaseModel):
    id: uuid.UUID
    name: str
    body: str
    variants: dict[str, str]
    updated_at: datetime | None

    @classmethod
    def of(cls, template: Template) -> TemplateOut:
        return cls.model_validate(template, from_attributes=True)


class SlaIn(BaseModel):
    first_response_hours: float | None = Field(
        ge=0.1, le=24 * 90, description="6 minutes to 90 days; null: no SLA"
    )


class SlaOut(BaseModel):
    first_response_hours: float | None


def _cursor(key: tuple[datetime, uuid.UUID] | None) -> str | None:
    if key is None:
        return None
    return (
        base64.urlsafe_b64encode(json.dumps([key[0].isoformat(), str(key[1])]).encode()).decode().rstrip("=")
    )


def _after(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """A cursor that is not exactly one this API issued is the client's mistake (422 on `cursor`)."""
    if not cursor:
        return None
    try:
        moment, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = datetime.fromisoformat(moment), uuid.UUID(row_id)
    except (ValueError, TypeError, binascii.Error):
        after = None
    if after is None or after[0].tzinfo is None:
        raise Invalid(
            "not a cursor this API issued",
            errors=[{"field": "cursor", "message": "not a cursor this API issued"}],
        )
    return after


@router.get("/items", responses=problem_responses(403, 422))
async def list_items(
    deps: Service,
    identity: Caller,
    state: ConversationState | None = None,
    kind: ItemKind | None = None,
    connection_id: uuid.UUID | None = None,
    assignee_id: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
    q: Annotated[
        str | None, Query(max_length=200, pattern=NO_NUL, description="text or author contains")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ItemPage:
    require_role(identity, *READERS)
    where = InboxFilter(state=state, kind=kind, connection_id=connection_id, assignee_id=assignee_id, text=q)
    async with deps.uow(identity.brand_id) as uow:
        rows, next_key = await inbox.page(uow, where, _after(cursor), limit)
    return ItemPage(items=[ItemOut.of(item) for item in rows], next_cursor=_cursor(next_key))


@router.get("/counts", responses=problem_responses(403))
async def counts(deps: Service, identity: Caller) -> dict[str, int]:
    """Items per conversation state, for the dashboard."""
    require_role(identity, *READERS)
    async with deps.uow(identity.brand_id) as uow:
        return await inbox.counts(uow)


@router.get("/items/{item_id}", responses=problem_responses(403, 404))
async def get_item(item_id: uuid.UUID, deps: Service, identity: Caller) -> ItemDetailOut:
    require_role(identity, *READERS)
    async with deps.uow(identity.brand_id) as uow:
        found = await inbox.detail(uow, item_id)
    return ItemDetailOut(
        **ItemOut.of(found.item).model_dump(),
        history=found.history,
        replies=[ReplyOut.of(r) for r in found.replies],
    )


@router.post("/items/{item_id}/state", responses=problem_responses(403, 404, 409, 422))
async def change_state(item_id: uuid.UUID, body: StateIn, deps: Service, identity: Caller) -> ItemOut:
    require_role(identity, *STAFF)
    async with deps.uow(identity.brand_id) as uow:
        item = await inbox.change_state(
            uow,
            item_id,
            body.state,
            assignee_id=body.assignee_id,
            actor=identity.user_id,
            now=deps.clock.now(),
        )
    return ItemOut.of(item)


@router.post("/items/bulk-state", responses=problem_responses(403, 404, 409, 422))
async def bulk_state(body: BulkStateIn, deps: Service, identity: Caller) -> ItemPage:
    """All or nothing: an unknown id or a refused change leaves every item as it was."""
    require_role(identity, *STAFF)
    async with deps.uow(identity.brand_id) as uow:
        items = await inbox.change_states(
            uow,
            body.item_ids,
            body.state,
            assignee_id=body.assignee_id,
            actor=identity.user_id,
            now=deps.clock.now(),
        )
    return ItemPage(items=[ItemOut.of(item) for item in items], next_cursor=None)


@router.post("/items/{item_id}/replies", status_code=202, responses=problem_responses(403, 404, 409, 422))
async def reply(
    item_id: uuid.UUID,
    body: ReplyIn,
    response: Response,
    deps: Service,
    identity: Caller,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=255)] = None,
) -> ReplyOut:
    """202: the reply goes out through connections; its status is on the item. The same
    Idempotency-Key answers 200 with the first reply and sends nothing again."""
    require_role(identity, *STAFF)
    async with deps.uow(identity.brand_id) as uow:
        stored, new = await replies.reply(
            uow,
            item_id,
            text=body.text,
            template_id=body.template_id,
            idempotency_key=idempotency_key or str(uuid.uuid4()),
            actor=identity.user_id,
            now=deps.clock.now(),
        )
    if not new:
        response.status_code = 200
    return ReplyOut.of(stored)


@router.get("/templates", responses=problem_responses(403))
async def list_templates(deps: Service, identity: Caller) -> list[TemplateOut]:
    require_role(identity, *READERS)
    async with deps.uow(identity.brand_id) as uow:
        return [TemplateOut.of(t) for t in await templates.listed(uow)]


@router.post("/templates", status_code=201, responses=problem_responses(403, 409, 422))
async def create_template(body: TemplateIn, deps: Service, identity: Caller) -> TemplateOut:
    require_role(identity, *STAFF)
    async with deps.uow(identity.brand_id) as uow:
        created = await templates.create(
            uow, identity.brand_id, body.name, body.body, body.variants, deps.clock.now()
        )
    return TemplateOut.of(created)


@router.put("/templates/{template_id}", responses=problem_responses(403, 404, 409, 422))
async def replace_template(
    template_id: uuid.UUID, body: TemplateIn, deps: Service, identity: Caller
) -> TemplateOut:
    require_role(identity, *STAFF)
    async with deps.uow(identity.brand_id) as uow:
        replaced = await templates.replace(
            uow, identity.brand_id, template_id, body.name, body.body, body.variants, deps.clock.now()
        )
    return TemplateOut.of(replaced)


@router.delete("/templates/{template_id}", status_code=204, responses=problem_responses(403, 404))
async def delete_template(template_id: uuid.UUID, deps: Service, identity: Caller) -> None:
    require_role(identity, *STAFF)
    async with deps.uow(identity.brand_id) as uow:
        await templates.delete(uow, template_id)


@router.get("/sla", responses=problem_responses(403))
async def get_sla(deps: Service, identity: Caller) -> SlaOut:
    require_role(identity, *READERS)
    async with deps.uow(identity.brand_id) as uow:
        return SlaOut(first_response_hours=await sla.get(uow, identity.brand_id))


@router.put("/sla", responses=problem_responses(403, 422))
async def put_sla(body: SlaIn, deps: Service, identity: Caller) -> SlaOut:
    require_role(identity, "owner", "admin")
    async with deps.uow(identity.brand_id) as uow:
        await sla.put(uow, identity.brand_id, body.first_response_hours, deps.clock.now())
    return SlaOut(first_response_hours=body.first_response_hours)
