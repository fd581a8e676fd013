"""The inbox's rules with in-memory fakes: no database, no broker."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from aligned_common.errors import Conflict, Invalid, NotFound
from aligned_common.events.connections import EngagementFetched, ReplyFailed, ReplySent
from aligned_common.events.engagement import (
    ConversationChanged,
    ItemReceived,
    ItemUpdated,
    PlatformItem,
    ReplyRequested,
    SlaBreached,
)
from aligned_common.events.webhooks import Received
from aligned_engagement.service_layer import inbox, ingest, replies, sla, templates
from aligned_engagement.service_layer.ports import InboxFilter, KnownConnection
from aligned_testing.clock import StillClock

from .fakes import FakeStore, FakeUnitOfWork, FakeUnits

pytestmark = pytest.mark.unit

BRAND, TENANT, CONNECTION = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
T0 = datetime(2026, 1, 1, 9, tzinfo=UTC)
ACCOUNT = "acct_1"


def comment(item_id: str = "c_1", **changes) -> PlatformItem:
    values = {
        "kind": "comment",
        "platform_item_id": item_id,
        "account_id": ACCOUNT,
        "remote_post_id": "p_1",
        "author_id": "u_9",
        "author_name": "Ann",
        "text": "Love it",
        "language": "de",
        "url": "https://sandbox.test/p_1",
        "created_at": T0,
    }
    return PlatformItem.model_validate(values | changes)


def fetched(*items: PlatformItem) -> EngagementFetched:
    return EngagementFetched(connection_id=CONNECTION, platform="sandbox", items=list(items))


def pushed(item: PlatformItem) -> Received:
    return Received(
        webhook_event_id=uuid.uuid4(),
        provider="sandbox",
        provider_event_id=uuid.uuid4().hex,
        kind="engagement",
        account_id=item.account_id,
        item=item,
    )


def store_with_connection() -> FakeStore:
    store = FakeStore()
    store.connections[CONNECTION] = KnownConnection(CONNECTION, BRAND, "sandbox", ACCOUNT, "connected")
    store.brands[BRAND] = "Acme"
    return store


async def run(store: FakeStore, handler, *args):
    async with FakeUnitOfWork(store) as uow:
        return await handler(uow, *args)


async def test_a_comment_from_the_webhook_and_from_the_poll_is_one_item_seen_by_both():
    store = store_with_connection()
    await run(store, ingest.on_webhook, BRAND, TENANT, pushed(comment()), T0)
    await run(store, ingest.on_fetched, BRAND, TENANT, fetched(comment()), T0 + timedelta(seconds=5))
    await run(store, ingest.on_fetched, BRAND, TENANT, fetched(comment()), T0 + timedelta(seconds=9))
    (item,) = store.items.values()
    assert (item.sources, item.state, item.received_at) == (("webhook", "poll"), "open", T0)
    assert [e.platform_item_id for e in store.events_of(ItemReceived)] == ["c_1"]


async def test_an_edit_and_a_deletion_are_reflected_and_a_late_old_copy_changes_nothing():
    store = store_with_connection()
    await run(store, ingest.on_fetched, BRAND, TENANT, fetched(comment()), T0)
    edited = comment(text="Love it!!", edited_at=T0 + timedelta(minutes=1))
    await run(store, ingest.on_webhook, BRAND, TENANT, pushed(edited), T0)
    (item,) = store.items.values()
    assert item.text == "Love it!!"
    await run(store, ingest.on_fetched, BRAND, TENANT, fetched(comment()), T0)  # the old text, late
    assert next(iter(store.items.values())).text == "Love it!!"
    await run(store, ingest.on_webhook, BRAND, TENANT, pushed(comment(deleted=True, text="")), T0)
    await run(store, ingest.on_fetched, BRAND, TENANT, fetched(edited), T0)  # a poll from before the deletion
    assert next(iter(store.items.values())).deleted
    assert [(e.text, e.deleted) for e in store.events_of(ItemUpdated)] == [
        ("Love it!!", False),
        ("Love it!!", True),
    ]


async def test_our_own_reply_coming_back_in_a_poll_is_not_an_inbox_item():
    store = store_with_connection()
    await run(store, ingest.on_fetched, BRAND, TENANT, fetched(comment("c_2", author_id=ACCOUNT)), T0)
    assert store.items == {}


async def test_a_webhook_for_an_account_the_brand_has_not_connected_is_left_to_the_poll():
    store = FakeStore()
    await run(store, ingest.on_webhook, BRAND, TENANT, pushed(comment()), T0)
    assert store.items == {} and store.events == []


async def test_a_review_also_lands_in_platform_reviews():
    store = store_with_connection()
    review = comment("r_1", kind="review", rating=2, remote_post_id=None, text="Slow service")
    await run(store, ingest.on_fetched, BRAND, TENANT, fetched(review), T0)
    (row,) = store.reviews.values()
    assert (row["rating"], row["reviewer_name"], row["reply_state"]) == (2, "Ann", "unanswered")


async def received(store: FakeStore, *items: PlatformItem, at: datetime = T0):
    await run(store, ingest.on_fetched, BRAND, TENANT, fetched(*items), at)
    return sorted(store.items.values(), key=lambda i: i.platform_item_id)


async def test_assigning_then_done_is_recorded_in_history_and_announced():
    store = store_with_connection()
    (item,) = await received(store, comment())
    await run(
        store,
        lambda uow: inbox.change_state(uow, item.id, "assigned", assignee_id="m-1", actor="u-1", now=T0),
    )
    await run(
        store, lambda uow: inbox.change_state(uow, item.id, "done", assignee_id=None, actor="u-1", now=T0)
    )
    detail = await run(store, inbox.detail, item.id)
    assert [(h["from_state"], h["to_state"], h["assignee_id"]) for h in detail.history] == [
        ("open", "assigned", "m-1"),
        ("assigned", "done", None),
    ]
    assert detail.item.first_response_at == T0  # done counts as a response: no SLA breach after
    assert [(e.from_state, e.to_state) for e in store.events_of(ConversationChanged)] == [
        ("open", "assigned"),
        ("assigned", "done"),
    ]


async def test_refused_state_changes():
    store = store_with_connection()
    (item,) = await received(store, comment())
    with pytest.raises(Conflict, match="reached by sending a reply"):
        await run(
            store,
            lambda uow: inbox.change_state(uow, item.id, "replied", assignee_id=None, actor=None, now=T0),
        )
    with pytest.raises(Conflict, match="needs an assignee_id"):
        await run(
            store,
            lambda uow: inbox.change_state(uow, item.id, "assigned", assignee_id=None, actor=None, now=T0),
        )
    await run(
        store, lambda uow: inbox.change_state(uow, item.id, "spam", assignee_id=None, actor=None, now=T0)
    )
    with pytest.raises(Conflict, match="spam cannot become done"):
        await run(
            store, lambda uow: inbox.change_state(uow, item.id, "done", assignee_id=None, actor=None, now=T0)
        )
    with pytest.raises(NotFound):
        await run(
            store,
            lambda uow: inbox.change_state(uow, uuid.uuid4(), "done", assignee_id=None, actor=None, now=T0),
        )


async def test_a_bulk_change_is_all_or_nothing():
    store = store_with_connection()
    a, b = await received(store, comment("c_1"), comment("c_2"))
    with pytest.raises(NotFound):
        await run(
            store,
            lambda uow: inbox.change_states(
                uow, [a.id, b.id, uuid.uuid4()], "done", assignee_id=None, actor=None, now=T0
            ),
        )
    assert {i.state for i in store.items.values()} == {"open"} and store.events_of(ConversationChanged) == []
    await run(
        store,
        lambda uow: inbox.change_states(
            uow, [a.id, b.id, a.id], "done", assignee_id=None, actor=None, now=T0
        ),
    )
    assert await run(store, inbox.counts) == {"open": 0, "assigned": 0, "replied": 0, "done": 2, "spam": 0}


async def test_the_list_filters_and_pages_newest_first_without_gaps_or_repeats():
    store = store_with_connection()
    for n in range(5):
        await received(
            store,
            comment(f"c_{n}", text=f"note {n}", kind="mention" if n == 4 else "comment"),
            at=T0 + timedelta(minutes=n),
        )
    seen, after = [], None
    while True:
        rows, after = await run(store, inbox.page, InboxFilter(), after, 2)
        seen += [r.platform_item_id for r in rows]
        if after is None:
            break
    assert seen == ["c_4", "c_3", "c_2", "c_1", "c_0"]
    rows, _ = await run(store, inbox.page, InboxFilter(kind="mention"), None, 10)
    assert [r.platform_item_id for r in rows] == ["c_4"]
    rows, _ = await run(store, inbox.page, InboxFilter(text="NOTE 2"), None, 10)
    assert [r.platform_item_id for r in rows] == ["c_2"]


async def test_a_template_reply_fills_the_variables_in_the_items_language_and_goes_to_connections_once():
    store = store_with_connection()
    (item,) = await received(store, comment())
    template = await run(
        store,
        templates.create,
        BRAND,
        "thanks",
        "Thanks {reviewer_name}!",
        {"de": "Danke {reviewer_name}, {brand}: {post_link}"},
        T0,
    )

    def ask(uow):
        return replies.reply(
            uow, item.id, text=None, template_id=template.id, idempotency_key="k-1", actor="u-1", now=T0
        )

    first, new = await run(store, ask)
    again, new_again = await run(store, ask)
    assert (new, new_again, again.id) == (True, False, first.id)
    (command,) = store.events_of(ReplyRequested)
    assert (command.text, command.in_reply_to_id, command.remote_post_id, command.kind) == (
        "Danke Ann, Acme: https://sandbox.test/p_1",
        "c_1",
        "p_1",
        "comment",
    )
    sent = ReplySent(
        reply_id=first.id, connection_id=CONNECTION, idempotency_key=command.idempotency_key, remote_id="c_77"
    )
    await run(store, replies.on_outcome, sent, T0)
    await run(store, replies.on_outcome, sent, T0)  # a redelivered outcome changes nothing
    detail = await run(store, inbox.detail, item.id)
    assert (detail.item.state, [r.status for r in detail.replies], detail.replies[0].remote_id) == (
        "replied",
        ["sent"],
        "c_77",
    )
    assert [e.to_state for e in store.events_of(ConversationChanged)] == ["replied"]


async def test_a_failed_reply_is_visible_and_leaves_the_item_unanswered():
    store = store_with_connection()
    (item,) = await received(store, comment("r_1", kind="review", rating=1))
    reply, _ = await run(
        store,
        lambda uow: replies.reply(
            uow, item.id, text="Sorry!", template_id=None, idempotency_key="k", actor=None, now=T0
        ),
    )
    assert store.reviews[item.id]["reply_state"] == "pending"
    await run(
        store,
        replies.on_outcome,
        ReplyFailed(
            reply_id=reply.id,
            connection_id=CONNECTION,
            idempotency_key="x",
            reason="rejected",
            platform_message="too long",
        ),
        T0,
    )
    detail = await run(store, inbox.detail, item.id)
    assert (detail.item.state, detail.replies[0].status, detail.replies[0].error) == (
        "open",
        "failed",
        "too long",
    )
    assert store.reviews[item.id]["reply_state"] == "failed"


async def test_replies_refused():
    store = store_with_connection()
    (item,) = await received(store, comment())
    with pytest.raises(Invalid):
        await run(
            store,
            lambda uow: replies.reply(
                uow, item.id, text="a", template_id=uuid.uuid4(), idempotency_key="k", actor=None, now=T0
            ),
        )
    with pytest.raises(NotFound, match="no template"):
        await run(
            store,
            lambda uow: replies.reply(
                uow, item.id, text=None, template_id=uuid.uuid4(), idempotency_key="k", actor=None, now=T0
            ),
        )
    with pytest.raises(Invalid, match="does not fit sandbox") as too_long:  # the platform's own limit
        await run(
            store,
            lambda uow: replies.reply(
                uow, item.id, text="x" * 5000, template_id=None, idempotency_key="k", actor=None, now=T0
            ),
        )
    assert too_long.value.extra["errors"][0]["field"] == "text"
    await run(store, ingest.on_fetched, BRAND, TENANT, fetched(comment(deleted=True)), T0)
    with pytest.raises(Conflict, match="deleted"):
        await run(
            store,
            lambda uow: replies.reply(
                uow, item.id, text="hi", template_id=None, idempotency_key="k", actor=None, now=T0
            ),
        )
    assert store.events_of(ReplyRequested) == []


async def test_a_template_with_an_unknown_variable_is_refused_naming_the_field():
    store = store_with_connection()
    with pytest.raises(Invalid) as refused:
        await run(store, templates.create, BRAND, "x", "Hi {name}", {"de": "Hallo {reviewer_name}"}, T0)
    assert [e["field"] for e in refused.value.extra["errors"]] == ["body"]


async def test_an_unanswered_item_past_its_brands_sla_is_announced_once():
    store = store_with_connection()
    store.slas[BRAND] = 2.0
    late, answered = await received(store, comment("c_1"), comment("c_2"))
    await run(
        store, lambda uow: inbox.change_state(uow, answered.id, "done", assignee_id=None, actor=None, now=T0)
    )
    clock = StillClock(T0 + timedelta(hours=1, minutes=59))
    units = FakeUnits(store)
    assert await sla.tick(units, clock.now(), hour_s=3600, limit=10) == 0
    clock.advance(timedelta(minutes=1))
    assert await sla.tick(units, clock.now(), hour_s=3600, limit=10) == 1
    assert await sla.tick(units, clock.now() + timedelta(hours=5), hour_s=3600, limit=10) == 0
    (breach,) = store.events_of(SlaBreached)
    assert (breach.item_id, breach.first_response_hours) == (late.id, 2.0)
