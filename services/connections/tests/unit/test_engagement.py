"""The engagement inbox's platform side on fakes: a poll announces what is new or changed once
per process, our replies go out under their idempotency key, a refusal is a reply_failed and a
transient failure is left to the inbox's retry."""

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest

from aligned_common.envelope import new_event
from aligned_common.events.connections import EngagementFetched, ReplyFailed, ReplySent
from aligned_common.events.engagement import PlatformItem, ReplyRequested
from aligned_connections.adapters.platforms import Rejected, Retryable
from aligned_connections.adapters.platforms.engagement import PostedReply, ReplyRequest
from aligned_connections.adapters.registry import PlatformRegistry
from aligned_connections.service_layer.engagement import Poller, handle_reply_requested

from .fakes import FakeEntry, FakePlatform, world

pytestmark = pytest.mark.unit


class EngagementPlatform(FakePlatform):
    def __init__(self) -> None:
        super().__init__()
        self.items: list[PlatformItem] = []
        self.replies: list[tuple[str, ReplyRequest]] = []
        self.failure: Exception | None = None

    async def fetch_engagement(self, access_token: str) -> list[PlatformItem]:
        return list(self.items)

    async def reply(self, access_token: str, request: ReplyRequest) -> PostedReply:
        if self.failure is not None:
            raise self.failure
        self.replies.append((access_token, request))
        return PostedReply(remote_id=f"c_reply_{len(self.replies)}")


def engagement_world():
    w = world()
    platform = EngagementPlatform()
    deps = dataclasses.replace(w.deps, platforms=PlatformRegistry({"sandbox": platform}))  # type: ignore[dict-item]
    return w, deps, platform


def item(item_id: str, text: str = "hi") -> PlatformItem:
    return PlatformItem(
        kind="comment", platform_item_id=item_id, account_id="acct", text=text, created_at=datetime.now(UTC)
    )


async def test_a_poll_announces_new_and_changed_items_once():
    w, deps, platform = engagement_world()
    connection = w.connect()
    poller = Poller(deps)
    platform.items = [item("c_1"), item("c_2")]
    assert await poller.poll(connection) == 2
    assert await poller.poll(connection) == 0  # nothing new: nothing sent
    platform.items = [item("c_1", "edited"), item("c_2")]
    assert await poller.poll(connection) == 1
    fetched = w.store.events_of(EngagementFetched)
    assert [[i.platform_item_id for i in f.items] for f in fetched] == [["c_1", "c_2"], ["c_1"]]
    assert {f.connection_id for f in fetched} == {connection.id}


async def test_a_quiet_account_is_asked_less_often_and_every_round_again_once_something_is_new():
    w, deps, platform = engagement_world()
    w.connect()
    asked: list[int] = []
    current = {"round": 0}
    fetch = platform.fetch_engagement

    async def counted(token: str) -> list[PlatformItem]:
        asked.append(current["round"])
        return await fetch(token)

    platform.fetch_engagement = counted  # type: ignore[method-assign]
    poller = Poller(deps)
    for n in range(1, 16):
        current["round"] = n
        if n == 13:
            platform.items = [item("c_new")]
        await poller.poll_all()
    # quiet after rounds 1, 3, 7: skips 1, 3, 7 rounds; round 15 is the next ask after 7
    assert asked == [1, 3, 7, 15]
    platform.items = [item("c_new"), item("c_2")]
    for n in range(16, 19):
        current["round"] = n
        await poller.poll_all()
    assert asked[4:] == [16, 17]  # c_2 was new on 16: asked again on 17, quiet again after it


async def reply_to(deps, connection, key: str = "engagement-reply-1"):
    data = ReplyRequested(
        reply_id=uuid.uuid4(),
        item_id=uuid.uuid4(),
        connection_id=connection.id,
        platform="sandbox",
        kind="comment",
        in_reply_to_id="c_1",
        remote_post_id="post_1",
        text="Thanks",
        idempotency_key=key,
    )
    envelope = new_event(data, brand_id=connection.brand_id, tenant_id=connection.tenant_id)
    await handle_reply_requested(deps, FakeEntry(), envelope, data)
    return data


async def test_a_reply_goes_out_with_the_accounts_token_and_its_key_and_is_announced_sent():
    w, deps, platform = engagement_world()
    connection = w.connect()
    data = await reply_to(deps, connection)
    ((token, request),) = platform.replies
    assert (token, request.idempotency_key, request.in_reply_to_id) == (
        "access-1",
        data.idempotency_key,
        "c_1",
    )
    (sent,) = w.store.events_of(ReplySent)
    assert (sent.reply_id, sent.remote_id) == (data.reply_id, "c_reply_1")


async def test_a_refused_reply_is_announced_failed_and_a_transient_failure_is_retried_by_the_inbox():
    w, deps, platform = engagement_world()
    connection = w.connect()
    platform.failure = Rejected("too long", platform="sandbox", platform_message="text too long")
    await reply_to(deps, connection)
    (failed,) = w.store.events_of(ReplyFailed)
    assert (failed.reason, failed.platform_message) == ("rejected", "text too long")
    platform.failure = Retryable("down", platform="sandbox")
    with pytest.raises(Retryable):
        await reply_to(deps, connection)
    assert len(w.store.events_of(ReplyFailed)) == 1


async def test_a_reply_on_an_unknown_connection_is_failed_without_a_call():
    w, deps, platform = engagement_world()
    connection = dataclasses.replace(w.connect(), id=uuid.uuid4())
    await reply_to(deps, connection)
    assert platform.replies == [] and w.store.events_of(ReplyFailed)[0].reason == "connection_not_found"
