"""FacebookAdapter against answers shaped as the Graph API v21.0 reference shows them."""

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from aligned_connections.adapters.platforms import (
    AuthFailure,
    AuthorizationCode,
    FacebookAdapter,
    MediaAttachment,
    MetricName,
    NotSupported,
    PublishRequest,
    Rejected,
    Retryable,
    UnknownOutcome,
)
from aligned_connections.adapters.platforms.graph import GRAPH_URL

from .recorded_api import RecordedApi, form, graph_error, no_sleep, ok, query

pytestmark = pytest.mark.unit

PAGE = "101"
PAGE_TOKEN = "page-token-101"
VIDEO_URL = GRAPH_URL.replace("graph.", "graph-video.")


@pytest.fixture
async def facebook():
    api = RecordedApi()
    async with api.client() as client:
        yield FacebookAdapter("app-id", "app-secret", http_client=client, sleep=no_sleep), api


def post(text: str = "hello", **fields) -> PublishRequest:
    return PublishRequest(text=text, idempotency_key="job-1:facebook", account_id=PAGE, **fields)


def image(alt: str = "") -> MediaAttachment:
    return MediaAttachment(content=b"\xff\xd8jpeg", mime_type="image/jpeg", alt_text=alt)


def permalink(post_id: str) -> httpx.Response:
    return ok({"id": post_id, "permalink_url": f"https://www.facebook.com/{post_id}"})


async def test_authorize_url_asks_for_page_permissions_with_pkce(facebook):
    adapter, _ = facebook
    url = await adapter.authorize_url("st", "challenge", "https://aligned.test/cb", ["read", "write"])

    parts = urlsplit(url)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.netloc}{parts.path}" == "www.facebook.com/v21.0/dialog/oauth"
    assert params["scope"] == "pages_show_list,pages_manage_posts,pages_read_engagement,read_insights"
    assert params["code_challenge"] == "challenge" and params["code_challenge_method"] == "S256"
    assert params["state"] == "st" and params["client_id"] == "app-id"


async def test_connect_exchanges_for_a_long_lived_token_and_picks_the_pages_one_may_post_to(facebook):
    adapter, api = facebook
    api.on(
        "GET",
        f"{GRAPH_URL}/oauth/access_token",
        ok({"access_token": "short-user", "token_type": "bearer", "expires_in": 5183}),
        ok({"access_token": "long-user", "token_type": "bearer", "expires_in": 5183944}),
    )
    next_page = f"{GRAPH_URL}/me/accounts/page2"
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
                        "tasks": ["CREATE_CONTENT", "ANALYZE"],
                    },
                    {"id": "102", "name": "Analyst only", "access_token": "pt-102", "tasks": ["ANALYZE"]},
                ],
                "paging": {"cursors": {"after": "x"}, "next": next_page},
            }
        ),
    )
    api.on(
        "GET",
        next_page,
        ok({"data": [{"id": "103", "name": "Cafe", "access_token": "pt-103", "tasks": ["CREATE_CONTENT"]}]}),
    )

    tokens = await adapter.exchange_code(
        AuthorizationCode(code="c0de", code_verifier="v" * 43, redirect_uri="https://a.test/cb")
    )
    accounts = await adapter.publishable_accounts(tokens)

    first, second = api.sent("GET", f"{GRAPH_URL}/oauth/access_token")
    assert query(first)["code"] == "c0de" and query(first)["code_verifier"] == "v" * 43
    assert query(second) == {
        "grant_type": "fb_exchange_token",
        "client_id": "app-id",
        "client_secret": "app-secret",
        "fb_exchange_token": "short-user",
    }
    assert api.sent("GET", f"{GRAPH_URL}/me/accounts")[0].headers["authorization"] == "Bearer long-user"
    assert [(a.account.id, a.account.name, a.tokens.access_token.get_secret_value()) for a in accounts] == [
        ("101", "Bakery", "pt-101"),
        ("103", "Cafe", "pt-103"),
    ]
    assert all(a.tokens.expires_at is None and a.tokens.refresh_token is None for a in accounts)


async def test_page_tokens_do_not_refresh_and_revoke_withdraws_the_grant(facebook):
    adapter, api = facebook
    api.on("DELETE", f"{GRAPH_URL}/me/permissions", ok({"success": True}))
    with pytest.raises(NotSupported):
        await adapter.refresh("anything")
    await adapter.revoke(PAGE_TOKEN)
    assert (
        api.sent("DELETE", f"{GRAPH_URL}/me/permissions")[0].headers["authorization"]
        == f"Bearer {PAGE_TOKEN}"
    )


async def test_publishes_text_with_a_link_to_the_pages_feed(facebook):
    adapter, api = facebook
    api.on("POST", f"{GRAPH_URL}/{PAGE}/feed", ok({"id": f"{PAGE}_555"}))
    api.on("GET", f"{GRAPH_URL}/{PAGE}_555", permalink(f"{PAGE}_555"))

    published = await adapter.publish(
        PAGE_TOKEN, post("new menu", options={"link": "https://bakery.test/menu"})
    )

    (sent,) = api.sent("POST", f"{GRAPH_URL}/{PAGE}/feed")
    assert form(sent) == {"message": "new menu", "link": "https://bakery.test/menu"}
    assert sent.headers["authorization"] == f"Bearer {PAGE_TOKEN}"
    assert published.remote_id == f"{PAGE}_555" and published.url == f"https://www.facebook.com/{PAGE}_555"


async def test_publishes_one_image_as_a_photo_post_with_alt_text(facebook):
    adapter, api = facebook
    api.on("POST", f"{GRAPH_URL}/{PAGE}/photos", ok({"id": "9001", "post_id": f"{PAGE}_556"}))
    api.on("GET", f"{GRAPH_URL}/{PAGE}_556", permalink(f"{PAGE}_556"))

    published = await adapter.publish(PAGE_TOKEN, post("croissants", media=(image("three croissants"),)))

    (sent,) = api.sent("POST", f"{GRAPH_URL}/{PAGE}/photos")
    body = sent.content
    assert b'name="caption"\r\n\r\ncroissants' in body
    assert b'name="alt_text_custom"\r\n\r\nthree croissants' in body
    assert b'name="published"\r\n\r\ntrue' in body and b"\xff\xd8jpeg" in body
    assert published.remote_id == f"{PAGE}_556"


async def test_publishes_several_images_as_unpublished_photos_attached_to_one_post(facebook):
    adapter, api = facebook
    api.on("POST", f"{GRAPH_URL}/{PAGE}/photos", ok({"id": "9001"}), ok({"id": "9002"}))
    api.on("POST", f"{GRAPH_URL}/{PAGE}/feed", ok({"id": f"{PAGE}_557"}))
    api.on("GET", f"{GRAPH_URL}/{PAGE}_557", permalink(f"{PAGE}_557"))

    await adapter.publish(PAGE_TOKEN, post("two", media=(image(), image())))

    photos = api.sent("POST", f"{GRAPH_URL}/{PAGE}/photos")
    assert all(b'name="published"\r\n\r\nfalse' in p.content for p in photos)
    (feed,) = api.sent("POST", f"{GRAPH_URL}/{PAGE}/feed")
    sent = form(feed)
    assert json.loads(sent["attached_media[0]"]) == {"media_fbid": "9001"}
    assert json.loads(sent["attached_media[1]"]) == {"media_fbid": "9002"}


async def test_publishes_a_video_and_waits_until_facebook_has_processed_it(facebook):
    adapter, api = facebook
    api.on("POST", f"{VIDEO_URL}/{PAGE}/videos", ok({"id": "777"}))
    api.on(
        "GET",
        f"{GRAPH_URL}/777",
        ok({"id": "777", "status": {"video_status": "processing", "processing_progress": 40}}),
        ok({"id": "777", "status": {"video_status": "ready"}, "permalink_url": f"/{PAGE}/videos/777/"}),
    )
    video = MediaAttachment(content=b"mp4", mime_type="video/mp4")

    published = await adapter.publish(PAGE_TOKEN, post("watch", media=(video,)))

    assert b'name="description"\r\n\r\nwatch' in api.sent("POST", f"{VIDEO_URL}/{PAGE}/videos")[0].content
    assert len(api.sent("GET", f"{GRAPH_URL}/777")) == 2
    assert published.remote_id == "777" and published.url == f"https://www.facebook.com/{PAGE}/videos/777/"


async def test_a_video_facebook_cannot_process_is_rejected(facebook):
    adapter, api = facebook
    api.on("POST", f"{VIDEO_URL}/{PAGE}/videos", ok({"id": "778"}))
    api.on("GET", f"{GRAPH_URL}/778", ok({"id": "778", "status": {"video_status": "error"}}))
    with pytest.raises(Rejected):
        await adapter.publish(
            PAGE_TOKEN, post("x", media=(MediaAttachment(content=b"x", mime_type="video/mp4"),))
        )


async def test_a_lost_answer_is_unknown_and_is_settled_from_recent_posts_without_sending_again(facebook):
    adapter, api = facebook
    api.on("POST", f"{GRAPH_URL}/{PAGE}/feed", httpx.ReadTimeout("lost"))
    api.on(
        "GET",
        f"{GRAPH_URL}/me/posts",
        ok(
            {
                "data": [
                    {
                        "id": f"{PAGE}_560",
                        "message": "spring menu is here",
                        "permalink_url": "https://fb.test/560",
                    },
                    {"id": f"{PAGE}_559", "message": "older"},
                ]
            }
        ),
    )

    with pytest.raises(UnknownOutcome):
        await adapter.publish(PAGE_TOKEN, post("spring menu is here"))
    found = await adapter.find_post_by_marker(PAGE_TOKEN, "spring menu is here")
    missing = await adapter.find_post_by_marker(PAGE_TOKEN, "never posted")

    assert found is not None and found.remote_id == f"{PAGE}_560"
    assert missing is None
    assert len(api.sent("POST", f"{GRAPH_URL}/{PAGE}/feed")) == 1  # looked, never re-sent


async def test_an_unknown_graph_error_on_a_write_is_an_unknown_outcome_and_on_a_read_retryable(facebook):
    adapter, api = facebook
    api.on("POST", f"{GRAPH_URL}/{PAGE}/feed", graph_error(2, "Service temporarily unavailable", status=500))
    api.on("GET", f"{GRAPH_URL}/me/posts", graph_error(1, "An unknown error occurred"))
    with pytest.raises(UnknownOutcome):
        await adapter.publish(PAGE_TOKEN, post())
    with pytest.raises(Retryable):
        await adapter.find_post_by_marker(PAGE_TOKEN, "x")


async def test_a_throttled_page_is_retryable_after_the_time_meta_names(facebook):
    adapter, api = facebook
    usage = {
        PAGE: [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 20,
                "total_time": 30,
                "estimated_time_to_regain_access": 7,
            }
        ]
    }
    api.on(
        "POST",
        f"{GRAPH_URL}/{PAGE}/feed",
        graph_error(
            32, "Page request limit reached", headers={"X-Business-Use-Case-Usage": json.dumps(usage)}
        ),
    )

    with pytest.raises(Retryable) as raised:
        await adapter.publish(PAGE_TOKEN, post())

    assert raised.value.status_code == 429  # what feeds the account's rate bucket
    assert raised.value.retry_after == 7 * 60


async def test_an_app_at_its_hourly_allowance_waits(facebook):
    adapter, api = facebook
    api.on(
        "GET",
        f"{GRAPH_URL}/me",
        graph_error(
            4,
            "Application request limit reached",
            headers={"X-App-Usage": '{"call_count":100,"total_cputime":12,"total_time":9}'},
        ),
    )
    with pytest.raises(Retryable) as raised:
        await adapter.get_account(PAGE_TOKEN)
    assert raised.value.status_code == 429 and raised.value.retry_after == 300


async def test_refused_content_is_rejected_with_metas_words(facebook):
    adapter, api = facebook
    api.on(
        "POST",
        f"{GRAPH_URL}/{PAGE}/feed",
        graph_error(
            368,
            "The action attempted has been deemed abusive",
            user_msg="This content goes against our Community Standards.",
        ),
    )
    with pytest.raises(Rejected) as raised:
        await adapter.publish(PAGE_TOKEN, post())
    assert raised.value.platform_message == "This content goes against our Community Standards."


async def test_a_revoked_page_token_is_an_auth_failure(facebook):
    adapter, api = facebook
    api.on(
        "POST",
        f"{GRAPH_URL}/{PAGE}/feed",
        graph_error(
            190, "Error validating access token: The user has not authorized application", subcode=458
        ),
    )
    with pytest.raises(AuthFailure):
        await adapter.publish(PAGE_TOKEN, post())


async def test_a_lost_permission_is_an_auth_failure(facebook):
    adapter, api = facebook
    api.on("POST", f"{GRAPH_URL}/{PAGE}/feed", graph_error(200, "Permissions error", status=403))
    with pytest.raises(AuthFailure):
        await adapter.publish(PAGE_TOKEN, post())


async def test_post_status_of_a_deleted_post_is_none(facebook):
    adapter, api = facebook
    api.on(
        "GET",
        f"{GRAPH_URL}/{PAGE}_1",
        graph_error(100, "Unsupported get request. Object with ID '101_1' does not exist", subcode=33),
    )
    api.on("GET", f"{GRAPH_URL}/{PAGE}_2", permalink(f"{PAGE}_2"))
    assert await adapter.get_post_status(PAGE_TOKEN, f"{PAGE}_1") is None
    status = await adapter.get_post_status(PAGE_TOKEN, f"{PAGE}_2")
    assert status is not None and status.url == f"https://www.facebook.com/{PAGE}_2"


async def test_metrics_are_mapped_and_what_facebook_lacks_is_absent(facebook):
    adapter, api = facebook
    api.on(
        "GET",
        f"{GRAPH_URL}/{PAGE}_3",
        ok(
            {
                "id": f"{PAGE}_3",
                "shares": {"count": 4},
                "comments": {
                    "data": [],
                    "summary": {"order": "ranked", "total_count": 6, "can_comment": True},
                },
                "reactions": {"data": [], "summary": {"total_count": 31, "viewer_reaction": "NONE"}},
            }
        ),
    )
    api.on(
        "GET",
        f"{GRAPH_URL}/{PAGE}_3/insights",
        ok(
            {
                "data": [
                    {
                        "name": "post_impressions",
                        "period": "lifetime",
                        "values": [{"value": 1200}],
                        "id": "x/1",
                    },
                    {
                        "name": "post_impressions_unique",
                        "period": "lifetime",
                        "values": [{"value": 800}],
                        "id": "x/2",
                    },
                ],
                "paging": {},
            }
        ),
    )
    api.on("GET", f"{GRAPH_URL}/{PAGE}_gone", graph_error(100, "does not exist", subcode=33))

    points = await adapter.fetch_metrics(PAGE_TOKEN, [f"{PAGE}_3", f"{PAGE}_gone"])

    assert {p.name: p.value for p in points} == {
        MetricName.LIKES: 31,
        MetricName.COMMENTS: 6,
        MetricName.SHARES: 4,
        MetricName.IMPRESSIONS: 1200,
        MetricName.REACH: 800,
    }
    assert {p.remote_id for p in points} == {f"{PAGE}_3"}


async def test_get_account_names_the_page(facebook):
    adapter, api = facebook
    api.on("GET", f"{GRAPH_URL}/me", ok({"id": PAGE, "name": "Bakery"}))
    account = await adapter.get_account(PAGE_TOKEN)
    assert (account.id, account.name) == (PAGE, "Bakery")
