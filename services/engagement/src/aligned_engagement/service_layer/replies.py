"""Replying: a reply is stored pending and a command goes to connections (the only service
that calls platforms) in the same transaction; connections' outcome settles it."""

from __future__ import annotations

import uuid
from datetime import datetime

from aligned_common.events.connections import ReplyFailed, ReplySent
from aligned_common.events.engagement import ReplyRequested
from aligned_common.platforms.content_check import check_content
from aligned_engagement.domain.errors import ConnectionUnknown, Invalid, ItemNotFound, TemplateNotFound
from aligned_engagement.domain.model import TRANSITIONS
from aligned_engagement.domain.replies import Reply
from aligned_engagement.service_layer.inbox import record_move
from aligned_engagement.service_layer.ports import UnitOfWork


async def reply(
    uow: UnitOfWork,
    item_id: uuid.UUID,
    *,
    text: str | None,
    template_id: uuid.UUID | None,
    idempotency_key: str,
    actor: str | None,
    now: datetime,
) -> tuple[Reply, bool]:
    """The reply and whether it is new (False: this idempotency key's earlier reply)."""
    if (text is None) == (template_id is None):
        raise Invalid(
            "give either text or template_id",
            errors=[{"field": "text", "message": "exactly one of text and template_id is required"}],
        )
    item = await uow.items.get(item_id, lock=True)
    if item is None:
        raise ItemNotFound(f"no inbox item {item_id}")
    item.check_replyable()
    connection = await uow.connections.get(item.connection_id)
    if connection is None:
        raise ConnectionUnknown("the item's connection is not known here (yet)")
    if template_id is not None:
        template = await uow.templates.get(template_id)
        if template is None:
            raise TemplateNotFound(f"no template {template_id}")
        values = {
            "reviewer_name": item.author_name,
            "brand": await uow.brands.name_of(item.brand_id) or "",
            "post_link": item.url or "",
        }
        text = template.render(item.language, values)
    assert text is not None
    if not text.strip():
        raise Invalid("the reply is empty", errors=[{"field": "text", "message": "must not be empty"}])
    if item.kind != "review":  # a comment reply is a post on the platform: its limits apply
        violations = check_content(item.platform, text)
        if violations:
            raise Invalid(
                f"the reply does not fit {item.platform}",
                errors=[{"field": v.field, "message": v.message, "code": v.code.value} for v in violations],
            )
    new = Reply(
        id=uuid.uuid4(),
        brand_id=item.brand_id,
        item_id=item.id,
        text=text,
        template_id=template_id,
        idempotency_key=idempotency_key,
        status="pending",
        remote_id=None,
        error=None,
        requested_by=actor,
        created_at=now,
    )
    stored = await uow.replies.add(new)
    if stored.id != new.id:
        if stored.item_id != item.id:
            raise Invalid(
                "this Idempotency-Key was used for a reply to another item",
                errors=[{"field": "Idempotency-Key", "message": "already used for another item"}],
            )
        return stored, False
    if item.kind == "review":
        await uow.reviews.set_reply_state(item.id, "pending", None)
    await uow.emit(
        ReplyRequested(
            reply_id=stored.id,
            item_id=item.id,
            connection_id=item.connection_id,
            platform=item.platform,
            kind="review" if item.kind == "review" else "comment",
            in_reply_to_id=item.platform_item_id,
            remote_post_id=item.remote_post_id,
            text=text,
            # The platform's Idempotency-Key: one per reply, so a redelivered command posts once.
            idempotency_key=f"engagement-reply-{stored.id}",
        ),
        brand_id=item.brand_id,
        tenant_id=item.tenant_id,
        subject=str(item.id),
    )
    return stored, True


async def on_outcome(uow: UnitOfWork, data: ReplySent | ReplyFailed, now: datetime) -> None:
    """A sent reply makes the item replied (its first response); a failed one stays visible."""
    stored = await uow.replies.get(data.reply_id, lock=True)
    if stored is None or stored.status != "pending":
        return  # another brand's, or settled already (a redelivery)
    item = await uow.items.get(stored.item_id, lock=True)
    if item is None:
        return
    if isinstance(data, ReplySent):
        await uow.replies.settle(stored.id, "sent", data.remote_id, None, now)
        if item.kind == "review":
            await uow.reviews.set_reply_state(item.id, "replied", now)
        if "replied" in TRANSITIONS[item.state]:  # done or spam by now: the reply does not reopen it
            await record_move(uow, item, item.moved("replied", assignee_id=None, actor="reply", at=now))
        return
    await uow.replies.settle(stored.id, "failed", None, data.platform_message or data.reason, now)
    if item.kind == "review":
        await uow.reviews.set_reply_state(item.id, "failed", None)
