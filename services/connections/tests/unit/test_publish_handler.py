"""The publish handler's decisions, run on the in-memory fakes: the claim (key recorded and
leased before the call, busy keys and rate limits answered without one), the outcome and its
event, and a lost answer that is never re-sent but settled by asking the platform first."""

import dataclasses
import uuid
from datetime import timedelta

import pytest

from aligned_common.envelope import new_event
from aligned_common.events.connections import ConnectionExpired, PostFailed, PostPublished
from aligned_common.events.publishing import AttemptRequested, ReplyRef
from aligned_common.events.registry import EVENT_TYPES
from aligned_connections.adapters.platforms import Rejected, Retryable, UnknownOutcome
from aligned_connections.domain.attempts import AttemptStatus
from aligned_connections.domain.connection import Status
from aligned_connections.service_layer.publish import handle_attempt_requested

from .fakes import FakeEntry, auth_failure

pytestmark = pytest.mark.unit


def attempt(
    connection,
    *,
    key: str | None = None,
    number: int = 1,
    text: str = "hello world",
    reply_to: ReplyRef | None = None,
):
    data = AttemptRequested(
        reply_to=reply_to,
        job_id=uuid.uuid4(),
        target_id=uuid.uuid4(),
        platform=connection.platform,
        connection_id=connection.id,
        idempotency_key=key or f"key-{uuid.uuid4().hex}",
        attempt=number,
        text=text,
    )
    return new_event(data, brand_id=connection.brand_id, tenant_id=connection.tenant_id), data


async def handle(world, envelope, data):
    await handle_attempt_requested(world.deps, FakeEntry(), envelope, data)
    answer = world.store.events[-1]
    return EVENT_TYPES[answer.type].model_validate(answer.data)


def record(world, data):
    return world.store.attempts[data.idempotency_key]


async def test_a_first_attempt_is_claimed_published_and_answered(world):
    connection = world.connect()
    envelope, data = attempt(connection)
    answer = await handle(world, envelope, data)
    assert isinstance(answer, PostPublished) and answer.remote_id == "post-1"
    assert world.platform.calls == ["publish"]
    row = record(world, data)
    assert (row["status"], row["calls"], row["remote_id"], row["lease_until"]) == (
        "published",
        1,
        "post-1",
        None,
    )
    # The claim took a token from the account's bucket (capacity 30).
    assert world.store.buckets[connection.id].tokens == 29
    # Two short transactions: the claim, and the outcome with its event (the inbox entry's).
    assert world.units.opened == 2 and len(world.store.finished) == 1


async def test_a_reply_reaches_the_platform_as_a_reply_to_the_named_post(world):
    connection = world.connect()
    envelope, data = attempt(
        connection,
        text="first comment",
        reply_to=ReplyRef(parent_remote_id="post-9", root_remote_id="post-9"),
    )
    answer = await handle(world, envelope, data)
    assert isinstance(answer, PostPublished)
    sent = world.platform.requests[-1].reply_to
    assert (sent.parent_remote_id, sent.root_remote_id) == ("post-9", "post-9")


async def test_a_reply_whose_answer_was_lost_is_found_by_its_text_and_never_sent_twice(world):
    # The crash-between-post-and-comment case: the comment has its own key, so its lost answer
    # is settled like any post's, by the reconcile path, and a redelivery makes no second call.
    connection = world.connect()
    reply_to = ReplyRef(parent_remote_id="post-9", root_remote_id="post-9")
    envelope, data = attempt(connection, key="job-1:t:comment", text="first comment", reply_to=reply_to)
    world.platform.publish_answers.append((UnknownOutcome("read timeout", platform="sandbox"), True))

    first = await handle(world, envelope, data)
    again = await handle(
        world, *attempt(connection, key="job-1:t:comment", number=2, text="first comment", reply_to=reply_to)
    )

    assert isinstance(first, PostPublished) and isinstance(again, PostPublished)
    assert first.remote_id == again.remote_id
    assert world.platform.calls == ["publish", "find_post_by_marker"]


async def test_a_key_that_already_succeeded_is_answered_with_its_post_without_a_call(world):
    connection = world.connect()
    envelope, data = attempt(connection, key="key-repeated")
    await handle(world, envelope, data)
    again, data2 = attempt(connection, key="key-repeated", number=2)
    answer = await handle(world, again, data2)
    assert isinstance(answer, PostPublished) and answer.remote_id == "post-1"
    assert world.platform.calls == ["publish"]


async def test_a_key_already_answered_published_is_so_even_after_the_connection_went(world):
    connection = world.connect()
    envelope, data = attempt(connection, key="key-then-gone")
    await handle(world, envelope, data)
    world.store.connections[connection.id] = dataclasses.replace(world.row(connection), status=Status.REVOKED)
    again, data2 = attempt(connection, key="key-then-gone", number=2)
    assert isinstance(await handle(world, again, data2), PostPublished)


@pytest.mark.parametrize(
    "status,reason",
    [(Status.EXPIRED, "connection_expired"), (Status.REVOKED, "connection_revoked")],
)
async def test_an_unusable_connection_is_answered_failed_without_a_call(world, status, reason):
    connection = world.connect(status=status)
    envelope, data = attempt(connection)
    answer = await handle(world, envelope, data)
    assert isinstance(answer, PostFailed) and (answer.reason, answer.retryable) == (reason, False)
    assert world.platform.calls == [] and data.idempotency_key not in world.store.attempts


async def test_a_key_leased_by_another_worker_is_answered_busy_and_comes_back(world):
    connection = world.connect()
    envelope, data = attempt(connection, key="key-busy")
    # Another worker holds the key: simulate its claim by leasing the record.
    async with world.deps.uow(connection.brand_id) as uow:
        await uow.attempts.record_and_lock(connection.brand_id, connection.tenant_id, data)
        await uow.attempts.take_token_and_lease(
            data.idempotency_key, 1, 60, connection.id, connection.brand_id, 30, 1
        )
    answer = await handle(world, envelope, data)
    assert isinstance(answer, PostFailed) and (answer.reason, answer.retryable) == ("retryable", True)
    assert answer.retry_after_s == 60  # the lease's remaining time
    assert world.platform.calls == []


async def test_an_account_out_of_rate_tokens_waits_without_a_call(world):
    connection = world.connect()
    for _ in range(int(world.deps.settings.rate_limit_capacity)):
        await handle(world, *attempt(connection))
    answer = await handle(world, *attempt(connection))
    assert isinstance(answer, PostFailed) and answer.reason == "rate_limited" and answer.retryable
    assert answer.retry_after_s == pytest.approx(1.0)  # one token per second
    assert world.platform.calls.count("publish") == 30


async def test_a_rejection_is_final(world):
    connection = world.connect()
    envelope, data = attempt(connection)
    world.platform.publish_answers.append(
        (Rejected("too long", platform="sandbox", platform_message="text too long"), False)
    )
    answer = await handle(world, envelope, data)
    assert isinstance(answer, PostFailed) and (answer.reason, answer.retryable) == ("rejected", False)
    assert record(world, data)["status"] == AttemptStatus.REJECTED
    # A redelivery of a rejected key is answered again without a call.
    answer = await handle(world, *attempt(connection, key=data.idempotency_key, number=2))
    assert isinstance(answer, PostFailed) and answer.platform_message == "text too long"
    assert world.platform.calls == ["publish"]


async def test_a_lost_answer_is_not_sent_again_but_looked_for_first(world):
    connection = world.connect()
    envelope, data = attempt(connection, key="key-lost", text="the lost one")
    # The post landed, but neither the answer nor (yet) the platform's search shows it.
    world.platform.publish_answers.append((UnknownOutcome("read timeout", platform="sandbox"), False))
    answer = await handle(world, envelope, data)
    assert isinstance(answer, PostFailed) and (answer.reason, answer.retryable) == ("unknown_outcome", True)
    assert record(world, data)["status"] == AttemptStatus.UNKNOWN
    assert world.platform.calls == ["publish", "find_post_by_marker"]  # asked once, not re-sent

    # Meanwhile the post shows up (say it landed late): the next handling finds it, no new call.
    world.platform.posts["post-late"] = "the lost one"
    world.platform.calls.clear()
    answer = await handle(world, *attempt(connection, key="key-lost", number=2, text="the lost one"))
    assert isinstance(answer, PostPublished) and answer.remote_id == "post-late"
    assert world.platform.calls == ["find_post_by_marker"]


async def test_a_reconciled_key_that_made_nothing_is_sent_again(world):
    connection = world.connect()
    envelope, data = attempt(connection, key="key-nothing", text="never landed")
    world.platform.publish_answers.append((UnknownOutcome("read timeout", platform="sandbox"), False))
    await handle(world, envelope, data)
    world.platform.calls.clear()
    answer = await handle(world, *attempt(connection, key="key-nothing", number=2, text="never landed"))
    assert isinstance(answer, PostPublished)
    assert world.platform.calls == ["find_post_by_marker", "publish"]
    assert record(world, data)["calls"] == 2


async def test_a_post_found_by_its_text_that_another_job_owns_is_not_this_one(world):
    connection = world.connect()
    await handle(world, *attempt(connection, key="key-other", text="same words"))
    envelope, data = attempt(connection, key="key-mine", text="same words")
    world.platform.publish_answers.append((UnknownOutcome("read timeout", platform="sandbox"), False))
    await handle(world, envelope, data)
    world.platform.calls.clear()
    answer = await handle(world, *attempt(connection, key="key-mine", number=2, text="same words"))
    assert isinstance(answer, PostPublished) and answer.remote_id == "post-2"  # a post of its own


async def test_a_server_error_may_have_stored_the_post_so_the_next_handling_asks_first(world):
    connection = world.connect()
    envelope, data = attempt(connection, key="key-server-error", text="maybe stored")
    world.platform.publish_answers.append((Retryable("500", platform="sandbox", status_code=500), True))
    answer = await handle(world, envelope, data)
    assert isinstance(answer, PostFailed) and answer.retryable
    assert record(world, data)["status"] == AttemptStatus.UNKNOWN
    world.platform.calls.clear()
    answer = await handle(world, *attempt(connection, key="key-server-error", number=2, text="maybe stored"))
    assert isinstance(answer, PostPublished) and answer.remote_id == "post-1"
    assert world.platform.calls == ["find_post_by_marker"]


async def test_a_429_blocks_the_account_for_its_retry_after(world):
    connection = world.connect()
    envelope, data = attempt(connection)
    world.platform.publish_answers.append(
        (Retryable("slow down", platform="sandbox", status_code=429, retry_after=30), False)
    )
    answer = await handle(world, envelope, data)
    assert isinstance(answer, PostFailed) and answer.reason == "rate_limited" and answer.retry_after_s == 30
    assert record(world, data)["status"] == AttemptStatus.FAILED  # nothing landed: a call is safe
    answer = await handle(world, *attempt(connection))
    assert isinstance(answer, PostFailed) and answer.retry_after_s == pytest.approx(30)
    assert world.platform.calls == ["publish"]


async def test_a_token_about_to_expire_is_refreshed_before_the_call(world):
    connection = world.connect(expires_in_s=30)  # inside the 60 s inline margin
    answer = await handle(world, *attempt(connection))
    assert isinstance(answer, PostPublished)
    assert world.platform.calls == ["refresh", "publish"]


async def test_a_refused_token_is_refreshed_once_and_a_second_refusal_ends_the_connection(world):
    connection = world.connect()
    refused = auth_failure("token revoked")
    world.platform.publish_answers += [(refused, False), (refused, False)]
    answer = await handle(world, *attempt(connection))
    assert isinstance(answer, PostFailed) and answer.reason == "connection_expired"
    assert world.platform.calls == ["publish", "refresh", "publish"]
    assert world.row(connection).status is Status.EXPIRED
    assert len(world.store.events_of(ConnectionExpired)) == 1


async def test_an_unexpected_error_mid_call_releases_the_lease_as_unknown(world):
    connection = world.connect()
    envelope, data = attempt(connection)
    world.platform.publish_answers.append((RuntimeError("a bug of ours"), False))
    with pytest.raises(RuntimeError):
        await handle(world, envelope, data)
    row = record(world, data)
    assert (row["status"], row["lease_until"]) == ("unknown", None)  # the retry may go at once, asking first


async def test_the_platform_fields_and_the_connections_account_reach_the_adapter(world):
    connection = world.connect()
    envelope, data = attempt(connection)
    data = data.model_copy(update={"platform_options": {"privacy": "unlisted", "title": "Tour"}})
    envelope = envelope.model_copy(update={"data": data.model_dump(mode="json")})
    answer = await handle(world, envelope, data)
    assert isinstance(answer, PostPublished)
    (request,) = world.platform.requests
    assert request.options == {"privacy": "unlisted", "title": "Tour"}
    assert request.account_id == connection.account_id


async def test_a_success_that_spends_the_accounts_limit_blocks_its_bucket_until_the_reset(world):
    connection = world.connect()
    world.platform.spent_for_s = 900.0
    envelope, data = attempt(connection)
    assert isinstance(await handle(world, envelope, data), PostPublished)
    bucket = world.store.buckets[connection.id]
    assert bucket.blocked_until == world.clock.now() + timedelta(seconds=900)
    later, next_data = attempt(connection)
    answer = await handle(world, later, next_data)
    assert isinstance(answer, PostFailed) and answer.reason == "rate_limited"
    assert world.platform.calls == ["publish"]  # the second post waited instead of meeting a 429
