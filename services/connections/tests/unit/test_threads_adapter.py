"""ThreadsAdapter against answers shaped as the Threads API (v1.0) reference shows them."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from aligned_connections.adapters.platforms import (
    AuthFailure,
    AuthorizationCode,
    MediaAttachment,
    MetricName,
    NotSupported,
    PublishRequest,
    Rejected,
    Retryable,
    ThreadsAdapter,
    UnknownOutcome,
)
from aligned_connections.adapters.platforms.threads import API_URL, THREADS_URL

from .recorded_api import RecordedApi, form, graph_error, no_sleep, ok, query

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TOKEN = "long-lived"
CONTAINERS = f"{API_URL}/me/threads"
PUBLISH = f"{API_URL}/me/threads_publish"


@pytest.fixture
async def threads():
    api = RecordedApi()
    api.on(
        "GET",
        f"{API_URL}/me/threads_publishing_limit",
        ok({"data": [{"quota_usage": 4, "config": {"quota_total": 250, "quota_duration": 86400}}]}),
    )
    async with api.client() as client:
        yield (
            ThreadsAdapter("app-id", "app-secret", http_client=client, sleep=no_sleep, clock=lambda: NOW),
            api,
        )


def post(*media: MediaAttachment, text: str = "a thread", **fields) -> PublishRequest:
    return PublishRequest(text=text, media=media, idempotency_key="job-1:threads", **fields)


def image(n: int = 1) -> MediaAttachment:
    return MediaAttachment(
        url=f"https://store.test/{n}.jpg", size_bytes=1, mime_type="image/jpeg", alt_text=f"picture {n}"
    )


def expect_publish(api: RecordedApi, container: str, thread_id: str = "1801") -> None:
    api.on("GET", f"{API_URL}/{container}", ok({"status": "FINISHED", "id": container}))
    api.on("POST", PUBLISH, ok({"id": thread_id}))
    api.on(
        "GET",
        f"{API_URL}/{thread_id}",
        ok({"id": thread_id, "permalink": f"https://www.threads.net/@a/post/{thread_id}"}),
    )


async def test_connect_exchanges_the_code_then_for_a_long_lived_token_that_is_its_own_refresh_token(threads):
    adapter, api = threads
    url = await adapter.authorize_url("st", "challenge", "https://a.test/cb", ["read", "write"])
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith("https://threads.net/oauth/authorize?")
    assert params["scope"] == "threads_basic,threads_content_publish,threads_manage_insights"
    assert "code_challenge" not in params  # Threads documents no PKCE

    api.on("POST", f"{THREADS_URL}/oauth/access_token", ok({"access_token": "short", "user_id": 1234}))
    api.on(
        "GET",
        f"{THREADS_URL}/access_token",
        ok({"access_token": "long", "token_type": "bearer", "expires_in": 5183944}),
    )
    tokens = await adapter.exchange_code(
        AuthorizationCode(code="c", code_verifier="v" * 43, redirect_uri="https://a.test/cb")
    )

    exchange = form(api.sent("POST", f"{THREADS_URL}/oauth/access_token")[0])
    assert exchange["grant_type"] == "authorization_code" and exchange["code"] == "c"
    (long_lived,) = api.sent("GET", f"{THREADS_URL}/access_token")
    assert (
        query(long_lived)["grant_type"] == "th_exchange_token"
        and long_lived.headers["authorization"] == "Bearer short"
    )
    assert tokens.access_token.get_secret_value() == "long"
    assert tokens.refresh_token is not None and tokens.refresh_token.get_secret_value() == "long"
    assert tokens.expires_at == NOW + timedelta(seconds=5183944)
    assert tokens.account_id == "1234"


async def test_refresh_renews_the_long_lived_token(threads):
    adapter, api = threads
    api.on(
        "GET",
        f"{THREADS_URL}/refresh_access_token",
        ok({"access_token": "long-2", "token_type": "bearer", "expires_in": 5183944}),
    )
    tokens = await adapter.refresh("long-1")
    (sent,) = api.sent("GET", f"{THREADS_URL}/refresh_access_token")
    assert (
        query(sent) == {"grant_type": "th_refresh_token"} and sent.headers["authorization"] == "Bearer long-1"
    )
    assert (
        tokens.access_token.get_secret_value() == "long-2"
        and tokens.refresh_token.get_secret_value() == "long-2"
    )  # type: ignore[union-attr]


async def test_an_expired_long_lived_token_cannot_refresh(threads):
    adapter, api = threads
    api.on("GET", f"{THREADS_URL}/refresh_access_token", graph_error(190, "Session has expired", subcode=463))
    with pytest.raises(AuthFailure):
        await adapter.refresh("long-1")
    with pytest.raises(NotSupported):
        await adapter.revoke("long-1")


async def test_publishes_text_with_reply_control(threads):
    adapter, api = threads
    api.on("POST", CONTAINERS, ok({"id": "T1"}))
    expect_publish(api, "T1")

    published = await adapter.publish(TOKEN, post(options={"reply_control": "mentioned_only"}))

    assert form(api.sent("POST", CONTAINERS)[0]) == {
        "text": "a thread",
        "reply_control": "mentioned_only",
        "media_type": "TEXT",
    }
    assert form(api.sent("POST", PUBLISH)[0]) == {"creation_id": "T1"}
    assert published.remote_id == "1801" and published.url == "https://www.threads.net/@a/post/1801"


async def test_an_unknown_reply_control_is_rejected_before_any_call(threads):
    adapter, api = threads
    with pytest.raises(Rejected):
        await adapter.publish(TOKEN, post(options={"reply_control": "nobody"}))
    assert api.requests == []


async def test_publishes_an_image_and_a_video_with_alt_text(threads):
    adapter, api = threads
    api.on("POST", CONTAINERS, ok({"id": "T2"}), ok({"id": "T3"}))
    expect_publish(api, "T2")
    api.on(
        "GET",
        f"{API_URL}/T3",
        ok({"status": "IN_PROGRESS", "id": "T3"}),
        ok({"status": "FINISHED", "id": "T3"}),
    )
    video = MediaAttachment(
        url="https://store.test/v.mp4", size_bytes=1, mime_type="video/mp4", alt_text="a clip"
    )

    await adapter.publish(TOKEN, post(image()))
    await adapter.publish(TOKEN, post(video))

    first, second = (form(r) for r in api.sent("POST", CONTAINERS))
    assert (
        first["media_type"] == "IMAGE"
        and first["image_url"] == "https://store.test/1.jpg"
        and first["alt_text"] == "picture 1"
    )
    assert (
        second["media_type"] == "VIDEO"
        and second["video_url"] == "https://store.test/v.mp4"
        and second["alt_text"] == "a clip"
    )
    assert len(api.sent("GET", f"{API_URL}/T3")) == 2  # polled until processed


async def test_publishes_a_carousel(threads):
    adapter, api = threads
    api.on("POST", CONTAINERS, ok({"id": "I1"}), ok({"id": "I2"}), ok({"id": "K1"}))
    for item in ("I1", "I2"):
        api.on("GET", f"{API_URL}/{item}", ok({"status": "FINISHED", "id": item}))
    expect_publish(api, "K1")

    await adapter.publish(TOKEN, post(image(1), image(2)))

    one, two, carousel = (form(r) for r in api.sent("POST", CONTAINERS))
    assert one["is_carousel_item"] == "true" and two["is_carousel_item"] == "true"
    assert carousel == {
        "text": "a thread",
        "reply_control": "everyone",
        "media_type": "CAROUSEL",
        "children": "I1,I2",
    }


async def test_a_container_in_error_is_rejected_with_its_message(threads):
    adapter, api = threads
    api.on("POST", CONTAINERS, ok({"id": "T9"}))
    api.on(
        "GET",
        f"{API_URL}/T9",
        ok({"status": "ERROR", "id": "T9", "error_message": "FAILED_DOWNLOADING_VIDEO"}),
    )
    with pytest.raises(Rejected) as raised:
        await adapter.publish(TOKEN, post(image()))
    assert raised.value.platform_message == "FAILED_DOWNLOADING_VIDEO"
    assert api.sent("POST", PUBLISH) == []


async def test_a_lost_publish_answer_is_settled_from_recent_threads_without_sending_again(threads):
    adapter, api = threads
    api.on("POST", CONTAINERS, ok({"id": "T1"}))
    api.on("GET", f"{API_URL}/T1", ok({"status": "FINISHED", "id": "T1"}))
    api.on("POST", PUBLISH, httpx.ReadTimeout("lost"))
    api.on(
        "GET",
        f"{API_URL}/me/threads",
        ok(
            {
                "data": [
                    {"id": "1802", "text": "a thread", "permalink": "https://www.threads.net/@a/post/1802"}
                ],
                "paging": {},
            }
        ),
    )

    with pytest.raises(UnknownOutcome):
        await adapter.publish(TOKEN, post())
    found = await adapter.find_post_by_marker(TOKEN, "a thread")

    assert found is not None and found.remote_id == "1802"
    assert len(api.sent("POST", PUBLISH)) == 1


async def test_at_the_publishing_limit_nothing_is_sent(threads):
    adapter, api = threads
    api.on(
        "GET",
        f"{API_URL}/me/threads_publishing_limit",
        ok({"data": [{"quota_usage": 250, "config": {"quota_total": 250, "quota_duration": 86400}}]}),
    )
    with pytest.raises(Retryable) as raised:
        await adapter.publish(TOKEN, post())
    assert raised.value.status_code == 429
    assert api.sent("POST", CONTAINERS) == []


async def test_a_throttled_call_is_a_rate_limit_and_a_refused_post_is_rejected(threads):
    adapter, api = threads
    api.on(
        "POST",
        CONTAINERS,
        graph_error(4, "Application request limit reached", status=429, headers={"Retry-After": "30"}),
    )
    with pytest.raises(Retryable) as raised:
        await adapter.publish(TOKEN, post())
    assert raised.value.status_code == 429 and raised.value.retry_after == 30
    api.on("POST", CONTAINERS, graph_error(100, "Param text must be at most 500 characters long."))
    with pytest.raises(Rejected):
        await adapter.publish(TOKEN, post())


async def test_metrics_are_mapped_and_reach_and_saves_are_absent(threads):
    adapter, api = threads
    api.on("GET", f"{API_URL}/1801", ok({"id": "1801"}))
    api.on(
        "GET",
        f"{API_URL}/1801/insights",
        ok(
            {
                "data": [
                    {
                        "name": "views",
                        "period": "lifetime",
                        "values": [{"value": 900}],
                        "title": "Views",
                        "id": "1801/insights/views/lifetime",
                    },
                    {"name": "likes", "period": "lifetime", "values": [{"value": 12}]},
                    {"name": "replies", "period": "lifetime", "values": [{"value": 3}]},
                    {"name": "reposts", "period": "lifetime", "values": [{"value": 2}]},
                    {"name": "quotes", "period": "lifetime", "values": [{"value": 1}]},
                ]
            }
        ),
    )
    api.on("GET", f"{API_URL}/gone", graph_error(100, "Object does not exist", subcode=33))

    points = await adapter.fetch_metrics(TOKEN, ["1801", "gone"])

    assert {p.name: p.value for p in points} == {
        MetricName.IMPRESSIONS: 900,
        MetricName.LIKES: 12,
        MetricName.COMMENTS: 3,
        MetricName.SHARES: 2,
        MetricName.QUOTES: 1,
    }
