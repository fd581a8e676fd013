"""InstagramAdapter against answers shaped as the Instagram Graph API (v21.0) reference shows them."""

import httpx
import pytest
from pydantic import SecretStr

from aligned_connections.adapters.platforms import (
    AuthFailure,
    InstagramAdapter,
    MediaAttachment,
    MetricName,
    PublishRequest,
    Rejected,
    Retryable,
    TokenSet,
    UnknownOutcome,
)
from aligned_connections.adapters.platforms.graph import GRAPH_URL

from .recorded_api import RecordedApi, form, graph_error, no_sleep, ok

pytestmark = pytest.mark.unit

IG = "17841405822304914"
TOKEN = "page-token"
QUOTA_OK = ok({"data": [{"quota_usage": 2, "config": {"quota_total": 100, "quota_duration": 86400}}]})


@pytest.fixture
async def instagram():
    api = RecordedApi()
    api.on("GET", f"{GRAPH_URL}/{IG}/content_publishing_limit", QUOTA_OK)
    async with api.client() as client:
        yield InstagramAdapter("app-id", "app-secret", http_client=client, sleep=no_sleep), api


def post(*media: MediaAttachment, text: str = "caption #tag", **fields) -> PublishRequest:
    return PublishRequest(text=text, media=media, idempotency_key="job-1:instagram", account_id=IG, **fields)


def image(n: int = 1, alt: str = "") -> MediaAttachment:
    return MediaAttachment(
        url=f"https://store.test/img{n}.jpg?sig=x", size_bytes=10, mime_type="image/jpeg", alt_text=alt
    )


def video() -> MediaAttachment:
    return MediaAttachment(url="https://store.test/v.mp4?sig=x", size_bytes=10, mime_type="video/mp4")


def expect_publish(api: RecordedApi, container: str = "C1", media_id: str = "1790") -> None:
    api.on("POST", f"{GRAPH_URL}/{IG}/media_publish", ok({"id": media_id}))
    api.on(
        "GET",
        f"{GRAPH_URL}/{media_id}",
        ok({"id": media_id, "permalink": f"https://www.instagram.com/p/{media_id}/", "media_type": "IMAGE"}),
    )


async def test_connect_makes_an_account_per_page_with_a_linked_professional_account(instagram):
    adapter, api = instagram
    api.on(
        "GET",
        f"{GRAPH_URL}/me/accounts",
        ok(
            {
                "data": [
                    {
                        "id": "101",
                        "name": "Bakery",
                        "access_token": "pt-101",
                        "instagram_business_account": {"id": IG, "username": "bakery"},
                    },
                    {"id": "102", "name": "No Instagram", "access_token": "pt-102"},
                ]
            }
        ),
    )
    accounts = await adapter.publishable_accounts(TokenSet(access_token=SecretStr("long-user")))
    assert [(a.account.id, a.account.name, a.tokens.access_token.get_secret_value()) for a in accounts] == [
        (IG, "bakery", "pt-101")
    ]
    url = await adapter.authorize_url("st", "ch", "https://a.test/cb", [])
    assert "instagram_content_publish" in url and "code_challenge=ch" in url


async def test_publishes_an_image_through_a_container_polled_until_finished(instagram):
    adapter, api = instagram
    api.on("POST", f"{GRAPH_URL}/{IG}/media", ok({"id": "C1"}))
    api.on(
        "GET",
        f"{GRAPH_URL}/C1",
        ok({"status_code": "IN_PROGRESS", "id": "C1"}),
        ok({"status_code": "FINISHED", "id": "C1"}),
    )
    expect_publish(api)

    published = await adapter.publish(TOKEN, post(image(alt="a loaf")))

    (created,) = api.sent("POST", f"{GRAPH_URL}/{IG}/media")
    assert form(created) == {
        "image_url": "https://store.test/img1.jpg?sig=x",
        "alt_text": "a loaf",
        "caption": "caption #tag",
    }
    assert form(api.sent("POST", f"{GRAPH_URL}/{IG}/media_publish")[0]) == {"creation_id": "C1"}
    assert len(api.sent("GET", f"{GRAPH_URL}/C1")) == 2
    assert published.remote_id == "1790" and published.url == "https://www.instagram.com/p/1790/"


async def test_publishes_a_carousel_of_item_containers(instagram):
    adapter, api = instagram
    api.on("POST", f"{GRAPH_URL}/{IG}/media", ok({"id": "K1"}), ok({"id": "K2"}), ok({"id": "C9"}))
    api.on("GET", f"{GRAPH_URL}/C9", ok({"status_code": "FINISHED", "id": "C9"}))
    expect_publish(api)

    await adapter.publish(TOKEN, post(image(1), video()))

    first, second, carousel = (form(r) for r in api.sent("POST", f"{GRAPH_URL}/{IG}/media"))
    assert first == {"image_url": "https://store.test/img1.jpg?sig=x", "is_carousel_item": "true"}
    assert second == {
        "media_type": "VIDEO",
        "video_url": "https://store.test/v.mp4?sig=x",
        "is_carousel_item": "true",
    }
    assert carousel == {"media_type": "CAROUSEL", "children": "K1,K2", "caption": "caption #tag"}


async def test_a_video_is_a_reel_unless_the_post_asks_for_a_story(instagram):
    adapter, api = instagram
    api.on("POST", f"{GRAPH_URL}/{IG}/media", ok({"id": "C1"}))
    api.on("GET", f"{GRAPH_URL}/C1", ok({"status_code": "FINISHED", "id": "C1"}))
    expect_publish(api)

    await adapter.publish(TOKEN, post(video()))
    await adapter.publish(TOKEN, post(video(), options={"media_type": "stories"}))
    with pytest.raises(Rejected):
        await adapter.publish(TOKEN, post(video(), options={"media_type": "IGTV"}))

    reel, story = (form(r) for r in api.sent("POST", f"{GRAPH_URL}/{IG}/media"))
    assert reel["media_type"] == "REELS" and story["media_type"] == "STORIES"


async def test_a_container_instagram_cannot_process_is_rejected_and_nothing_is_published(instagram):
    adapter, api = instagram
    api.on("POST", f"{GRAPH_URL}/{IG}/media", ok({"id": "C1"}))
    api.on("GET", f"{GRAPH_URL}/C1", ok({"status_code": "ERROR", "id": "C1"}))
    with pytest.raises(Rejected):
        await adapter.publish(TOKEN, post(image()))
    assert api.sent("POST", f"{GRAPH_URL}/{IG}/media_publish") == []


async def test_text_alone_is_rejected_without_a_call(instagram):
    adapter, api = instagram
    with pytest.raises(Rejected):
        await adapter.publish(TOKEN, post())
    assert api.requests == []


async def test_at_the_publishing_limit_the_attempt_waits_and_sends_nothing(instagram):
    adapter, api = instagram
    api.on(
        "GET",
        f"{GRAPH_URL}/{IG}/content_publishing_limit",
        ok({"data": [{"quota_usage": 100, "config": {"quota_total": 100, "quota_duration": 86400}}]}),
    )
    with pytest.raises(Retryable) as raised:
        await adapter.publish(TOKEN, post(image()))
    assert raised.value.status_code == 429 and raised.value.retry_after == 3600
    assert api.sent("POST", f"{GRAPH_URL}/{IG}/media") == []


async def test_the_publish_limit_error_itself_is_a_rate_limit(instagram):
    adapter, api = instagram
    api.on("POST", f"{GRAPH_URL}/{IG}/media", ok({"id": "C1"}))
    api.on("GET", f"{GRAPH_URL}/C1", ok({"status_code": "FINISHED", "id": "C1"}))
    api.on(
        "POST",
        f"{GRAPH_URL}/{IG}/media_publish",
        graph_error(9, "Application request limit reached", subcode=2207042, status=403),
    )
    with pytest.raises(Retryable) as raised:
        await adapter.publish(TOKEN, post(image()))
    assert raised.value.status_code == 429


async def test_a_lost_publish_answer_is_settled_from_recent_media_without_publishing_again(instagram):
    adapter, api = instagram
    api.on("POST", f"{GRAPH_URL}/{IG}/media", ok({"id": "C1"}))
    api.on("GET", f"{GRAPH_URL}/C1", ok({"status_code": "FINISHED", "id": "C1"}))
    api.on("POST", f"{GRAPH_URL}/{IG}/media_publish", httpx.RemoteProtocolError("dropped"))
    api.on(
        "GET",
        f"{GRAPH_URL}/me",
        ok({"id": "101", "instagram_business_account": {"id": IG, "username": "bakery"}}),
    )
    api.on(
        "GET",
        f"{GRAPH_URL}/{IG}/media",
        ok(
            {
                "data": [
                    {
                        "id": "1791",
                        "caption": "caption #tag",
                        "permalink": "https://www.instagram.com/p/1791/",
                    }
                ]
            }
        ),
    )

    with pytest.raises(UnknownOutcome):
        await adapter.publish(TOKEN, post(image()))
    found = await adapter.find_post_by_marker(TOKEN, "caption #tag")

    assert found is not None and found.remote_id == "1791"
    assert len(api.sent("POST", f"{GRAPH_URL}/{IG}/media_publish")) == 1


async def test_an_expired_token_is_an_auth_failure_and_refused_media_is_rejected(instagram):
    adapter, api = instagram
    api.on(
        "POST",
        f"{GRAPH_URL}/{IG}/media",
        graph_error(190, "Error validating access token: Session has expired", subcode=463),
    )
    with pytest.raises(AuthFailure):
        await adapter.publish(TOKEN, post(image()))
    api.on(
        "POST",
        f"{GRAPH_URL}/{IG}/media",
        graph_error(
            36003,
            "The aspect ratio is not supported.",
            subcode=2207009,
            user_msg="The submitted image with aspect ratio 3:1 cannot be published.",
        ),
    )
    with pytest.raises(Rejected) as raised:
        await adapter.publish(TOKEN, post(image()))
    assert "aspect ratio" in (raised.value.platform_message or "")


async def test_metrics_name_views_by_media_type_and_leave_quotes_absent(instagram):
    adapter, api = instagram
    api.on("GET", f"{GRAPH_URL}/R1", ok({"id": "R1", "media_type": "VIDEO"}))
    api.on(
        "GET",
        f"{GRAPH_URL}/R1/insights",
        ok(
            {
                "data": [
                    {
                        "name": "reach",
                        "period": "lifetime",
                        "values": [{"value": 500}],
                        "id": "R1/insights/reach/lifetime",
                    },
                    {"name": "likes", "period": "lifetime", "values": [{"value": 40}]},
                    {"name": "comments", "period": "lifetime", "values": [{"value": 3}]},
                    {"name": "shares", "period": "lifetime", "values": [{"value": 2}]},
                    {"name": "saved", "period": "lifetime", "values": [{"value": 9}]},
                    {"name": "views", "period": "lifetime", "values": [{"value": 2100}]},
                ]
            }
        ),
    )
    points = await adapter.fetch_metrics(TOKEN, ["R1"])
    assert {p.name: p.value for p in points} == {
        MetricName.REACH: 500,
        MetricName.LIKES: 40,
        MetricName.COMMENTS: 3,
        MetricName.SHARES: 2,
        MetricName.SAVES: 9,
        MetricName.VIDEO_VIEWS: 2100,
    }
