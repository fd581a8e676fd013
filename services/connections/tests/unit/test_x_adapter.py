"""XAdapter against answers written from X API v2's reference (docs.x.com), through
httpx.MockTransport: connect, refresh, publish each media kind, a lost answer settled without a
second post, rate limits, refusals, a revoked token, metrics."""

import base64
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from aligned_connections.adapters.platforms import (
    AuthFailure,
    AuthorizationCode,
    MediaAttachment,
    MetricName,
    PublishRequest,
    Rejected,
    Retryable,
    UnknownOutcome,
)
from aligned_connections.adapters.platforms.x import XAdapter

from .platform_fixtures import FakePlatform, answer, form_of, json_of, lost

pytestmark = pytest.mark.unit

TOKEN = "x-access-token"
ME = {"data": {"id": "2244994945", "name": "X Dev", "username": "XDevelopers"}}
CREATED = {"data": {"id": "1445880548472328192", "text": "Hello world!"}}
TOKENS = {
    "token_type": "bearer",
    "expires_in": 7200,
    "access_token": "new-access",
    "scope": "tweet.write users.read tweet.read offline.access media.write",
    "refresh_token": "new-refresh",
}
UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}


@pytest.fixture
async def x():
    platform = FakePlatform()
    async with platform.client() as client:
        yield XAdapter("client-id", "client-secret", http_client=client, max_poll_wait_s=0), platform


def post(text="Hello world!", media=(), key="job-1:x", **options):
    return PublishRequest(text=text, media=tuple(media), idempotency_key=key, options=options)


async def test_authorize_url_asks_for_pkce_and_the_scopes_x_needs(x):
    adapter, _ = x
    url = await adapter.authorize_url("st", "challenge", "https://app.example/cb", adapter.default_scopes)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert (parts.netloc, parts.path) == ("x.com", "/i/oauth2/authorize")
    assert query["code_challenge_method"] == "S256" and query["code_challenge"] == "challenge"
    assert set(query["scope"].split()) >= {"tweet.write", "offline.access", "media.write"}


async def test_exchange_code_sends_the_verifier_with_basic_client_auth(x):
    adapter, platform = x
    platform.on("POST", "/2/oauth2/token", answer(200, TOKENS))
    tokens = await adapter.exchange_code(
        AuthorizationCode(code="c", code_verifier="v" * 43, redirect_uri="https://app.example/cb")
    )
    (request,) = platform.calls("POST", "/2/oauth2/token")
    assert (
        request.headers["authorization"] == "Basic " + base64.b64encode(b"client-id:client-secret").decode()
    )
    form = form_of(request)
    assert form["code_verifier"] == "v" * 43 and "client_secret" not in form
    assert tokens.access_token.get_secret_value() == "new-access"
    assert tokens.refresh_token == SecretStr("new-refresh") and tokens.expires_at is not None


async def test_a_refresh_token_x_no_longer_knows_is_an_auth_failure(x):
    adapter, platform = x
    platform.on(
        "POST",
        "/2/oauth2/token",
        answer(
            400, {"error": "invalid_request", "error_description": "Value passed for the token was invalid."}
        ),
    )
    with pytest.raises(AuthFailure) as refused:
        await adapter.refresh("old-refresh")
    assert "Value passed for the token was invalid" in (refused.value.platform_message or "")


async def test_refresh_keeps_the_old_refresh_token_when_none_comes(x):
    adapter, platform = x
    platform.on(
        "POST", "/2/oauth2/token", answer(200, {k: v for k, v in TOKENS.items() if k != "refresh_token"})
    )
    tokens = await adapter.refresh("old-refresh")
    assert form_of(platform.requests[0])["grant_type"] == "refresh_token"
    assert tokens.refresh_token == SecretStr("old-refresh")


async def test_revoke_sends_the_token(x):
    adapter, platform = x
    platform.on("POST", "/2/oauth2/revoke", answer(200, {"revoked": True}))
    await adapter.revoke("a-token")
    assert form_of(platform.requests[0])["token"] == "a-token"


async def test_account_is_the_user_behind_the_token(x):
    adapter, platform = x
    platform.on("GET", "/2/users/me", answer(200, ME))
    account = await adapter.get_account(TOKEN)
    assert (account.id, account.name) == ("2244994945", "@XDevelopers")
    assert platform.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


async def test_publish_text_returns_the_post(x):
    adapter, platform = x
    platform.on("POST", "/2/tweets", answer(201, CREATED))
    published = await adapter.publish(TOKEN, post("Hello world! https://example.com"))
    assert json_of(platform.requests[0]) == {"text": "Hello world! https://example.com"}
    assert published.remote_id == "1445880548472328192"
    assert published.url == "https://x.com/i/web/status/1445880548472328192"


async def test_reply_settings_say_who_may_reply(x):
    adapter, platform = x
    platform.on("POST", "/2/tweets", answer(201, CREATED))
    await adapter.publish(TOKEN, post("Only people I follow", reply_settings="following"))
    assert json_of(platform.requests[0]) == {"text": "Only people I follow", "reply_settings": "following"}


def _media_fixtures(platform: FakePlatform, media_id: str, finalize: dict, *statuses: dict) -> None:
    platform.on(
        "POST",
        "/2/media/upload/initialize",
        answer(200, {"data": {"id": media_id, "media_key": f"3_{media_id}"}}),
    )
    platform.on("POST", f"/2/media/upload/{media_id}/append", answer(200, {}))
    platform.on("POST", f"/2/media/upload/{media_id}/finalize", answer(200, finalize))
    if statuses:
        platform.on("GET", "/2/media/upload", *(answer(200, s) for s in statuses))
    platform.on("POST", "/2/media/metadata", answer(200, {"data": {"id": media_id}}))


async def test_publish_images_with_alt_text(x):
    adapter, platform = x
    _media_fixtures(platform, "710511363345354753", {"data": {"id": "710511363345354753"}})
    platform.on("POST", "/2/tweets", answer(201, CREATED))
    image = MediaAttachment(content=b"\xff\xd8jpeg", mime_type="image/jpeg", alt_text="a red door")
    await adapter.publish(TOKEN, post(media=[image, image]))
    initialize = json_of(platform.calls("POST", "/2/media/upload/initialize")[0])
    assert initialize == {"media_type": "image/jpeg", "total_bytes": 6, "media_category": "tweet_image"}
    assert json_of(platform.calls("POST", "/2/media/metadata")[0]) == {
        "id": "710511363345354753",
        "metadata": {"alt_text": {"text": "a red door"}},
    }
    assert json_of(platform.calls("POST", "/2/tweets")[0])["media"] == {
        "media_ids": ["710511363345354753", "710511363345354753"]
    }


async def test_publish_video_uploads_in_segments_and_waits_for_processing(x, monkeypatch):
    adapter, platform = x
    monkeypatch.setattr("aligned_connections.adapters.platforms.x.SEGMENT_BYTES", 4)
    media_id = "1880028106020515840"
    pending = {"data": {"id": media_id, "processing_info": {"state": "pending", "check_after_secs": 1}}}
    in_progress = {
        "data": {"id": media_id, "processing_info": {"state": "in_progress", "check_after_secs": 1}}
    }
    done = {"data": {"id": media_id, "processing_info": {"state": "succeeded"}}}
    _media_fixtures(platform, media_id, pending, in_progress, done)
    platform.on("POST", "/2/tweets", answer(201, CREATED))
    video = MediaAttachment(content=b"0123456789", mime_type="video/mp4")
    await adapter.publish(TOKEN, post(media=[video]))
    appends = platform.calls("POST", f"/2/media/upload/{media_id}/append")
    assert [b"segment_index" in r.content for r in appends] == [True, True, True]
    assert b"0123" in appends[0].content and b"89" in appends[2].content
    assert len(platform.calls("GET", "/2/media/upload")) == 2
    assert json_of(platform.calls("POST", "/2/media/upload/initialize")[0])["media_category"] == "tweet_video"
    assert not platform.calls("POST", "/2/media/metadata")  # no alt text given


async def test_media_x_cannot_process_is_rejected_and_nothing_is_posted(x):
    adapter, platform = x
    failed = {
        "data": {"id": "9", "processing_info": {"state": "failed", "error": {"message": "InvalidMedia"}}}
    }
    _media_fixtures(platform, "9", failed)
    with pytest.raises(Rejected):
        await adapter.publish(TOKEN, post(media=[MediaAttachment(content=b"gif", mime_type="image/gif")]))
    assert not platform.calls("POST", "/2/tweets")


async def test_a_lost_answer_is_settled_from_recent_posts_without_posting_again(x):
    adapter, platform = x
    platform.on("POST", "/2/tweets", lost())
    platform.on("GET", "/2/users/me", answer(200, ME))
    # X shows the post back with its link rewritten to t.co and & escaped.
    recent = {
        "data": [
            {"id": "1460323737035677698", "text": "something else"},
            {"id": "1445880548472328192", "text": "Tea &amp; cake https://t.co/abc123XYZ"},
        ],
        "meta": {"result_count": 2},
    }
    platform.on("GET", "/2/users/2244994945/tweets", answer(200, recent))
    with pytest.raises(UnknownOutcome):
        await adapter.publish(TOKEN, post("Tea & cake example.com/menu"))
    found = await adapter.find_post_by_marker(TOKEN, "Tea & cake example.com/menu")
    assert found is not None and found.remote_id == "1445880548472328192"
    assert len(platform.calls("POST", "/2/tweets")) == 1


async def test_no_recent_post_matches_when_it_never_landed(x):
    adapter, platform = x
    platform.on("GET", "/2/users/me", answer(200, ME))
    platform.on("GET", "/2/users/2244994945/tweets", answer(200, {"meta": {"result_count": 0}}))
    assert await adapter.find_post_by_marker(TOKEN, "Tea & cake") is None


async def test_a_rate_limit_is_retryable_at_xs_reset_time(x):
    adapter, platform = x
    reset = int(time.time()) + 600
    headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
    body = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}
    platform.on("POST", "/2/tweets", answer(429, body, headers))
    with pytest.raises(Retryable) as limited:
        await adapter.publish(TOKEN, post())
    assert limited.value.status_code == 429
    assert limited.value.retry_after is not None and 590 <= limited.value.retry_after <= 600


async def test_duplicate_content_is_rejected_in_xs_words(x):
    adapter, platform = x
    body = {
        "detail": "You are not allowed to create a Tweet with duplicate content.",
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
    }
    platform.on("POST", "/2/tweets", answer(403, body))
    with pytest.raises(Rejected) as refused:
        await adapter.publish(TOKEN, post())
    assert "duplicate content" in (refused.value.platform_message or "")


async def test_a_revoked_token_is_an_auth_failure(x):
    adapter, platform = x
    platform.on("POST", "/2/tweets", answer(401, UNAUTHORIZED))
    with pytest.raises(AuthFailure):
        await adapter.publish(TOKEN, post())


async def test_status_is_published_or_unknown_when_x_cannot_find_it(x):
    adapter, platform = x
    platform.on("GET", "/2/tweets/1445880548472328192", answer(200, CREATED))
    not_found = {
        "errors": [
            {
                "value": "1",
                "detail": "Could not find tweet with id: [1].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "id",
                "resource_id": "1",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ]
    }
    platform.on("GET", "/2/tweets/1", answer(200, not_found))
    status = await adapter.get_post_status(TOKEN, "1445880548472328192")
    assert status is not None and status.remote_id == "1445880548472328192"
    assert await adapter.get_post_status(TOKEN, "1") is None


async def test_metrics_map_public_metrics_and_leave_out_what_x_lacks(x):
    adapter, platform = x
    body = {
        "data": [
            {
                "id": "20",
                "text": "hi",
                "public_metrics": {
                    "retweet_count": 3,
                    "reply_count": 1,
                    "like_count": 12,
                    "quote_count": 0,
                    "bookmark_count": 2,
                    "impression_count": 480,
                },
            }
        ],
        "errors": [{"resource_id": "21", "type": "https://api.twitter.com/2/problems/resource-not-found"}],
    }
    platform.on("GET", "/2/tweets", answer(200, body))
    points = await adapter.fetch_metrics(TOKEN, ["20", "21"])
    assert platform.requests[0].url.params["ids"] == "20,21"
    assert {p.name: p.value for p in points} == {
        MetricName.IMPRESSIONS: 480,
        MetricName.LIKES: 12,
        MetricName.SHARES: 3,
        MetricName.COMMENTS: 1,
        MetricName.QUOTES: 0,
        MetricName.SAVES: 2,
    }
    assert {p.remote_id for p in points} == {"20"}  # the deleted post is left out, reach is absent


async def test_cannot_connect_is_retryable_and_nothing_was_sent(x):
    adapter, platform = x
    platform.on("POST", "/2/tweets", httpx.ConnectError("refused"))
    with pytest.raises(Retryable):
        await adapter.publish(TOKEN, post())


async def test_a_post_that_spends_the_window_tells_the_bucket_to_wait_for_its_reset(x):
    adapter, platform = x
    reset = int(time.time()) + 900
    headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
    platform.on("POST", "/2/tweets", answer(201, CREATED, headers))
    published = await adapter.publish(TOKEN, post())
    assert published.rate_limited_for_s is not None and 890 <= published.rate_limited_for_s <= 900


async def test_a_post_with_budget_left_says_nothing_about_waiting(x):
    adapter, platform = x
    headers = {"x-rate-limit-remaining": "99", "x-rate-limit-reset": str(int(time.time()) + 900)}
    platform.on("POST", "/2/tweets", answer(201, CREATED, headers))
    assert (await adapter.publish(TOKEN, post())).rate_limited_for_s is None


async def test_the_daily_post_limit_outlasts_the_15_minute_window(x):
    adapter, platform = x
    now = int(time.time())
    headers = {
        "x-rate-limit-remaining": "99",
        "x-rate-limit-reset": str(now + 900),
        "x-user-limit-24hour-limit": "100",
        "x-user-limit-24hour-remaining": "0",
        "x-user-limit-24hour-reset": str(now + 50_000),
    }
    platform.on("POST", "/2/tweets", answer(429, {"title": "Too Many Requests", "status": 429}, headers))
    with pytest.raises(Retryable) as limited:
        await adapter.publish(TOKEN, post())
    assert limited.value.retry_after is not None and 49_990 <= limited.value.retry_after <= 50_000


async def test_a_post_of_media_alone_sends_no_empty_text(x):
    adapter, platform = x
    _media_fixtures(platform, "7", {"data": {"id": "7"}})
    platform.on("POST", "/2/tweets", answer(201, CREATED))
    await adapter.publish(TOKEN, post("", media=[MediaAttachment(content=b"png", mime_type="image/png")]))
    assert json_of(platform.calls("POST", "/2/tweets")[0]) == {"media": {"media_ids": ["7"]}}
