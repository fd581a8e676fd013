"""TikTokAdapter against answers written from TikTok's Content Posting API v2 reference
(developers.tiktok.com), through httpx.MockTransport."""

from urllib.parse import parse_qs, urlsplit

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
from aligned_connections.adapters.platforms.tiktok import TikTokAdapter

from .platform_fixtures import FakePlatform, answer, form_of, json_of, lost

pytestmark = pytest.mark.unit

TOKEN = "act.token"
OK = {"code": "ok", "message": "", "log_id": "202206221001300101151041050A1BEA0A"}
PUBLISH_ID = "v_pub_file~v2-1.7112283219582355501"
UPLOAD_URL = "https://open-upload.tiktokapis.com/video/?upload_id=67890&upload_token=Xza123"
CREATOR = {
    "data": {
        "creator_avatar_url": "https://lf16-tt4d.tiktokcdn.com/obj/avatar.jpeg",
        "creator_username": "tiktok",
        "creator_nickname": "TikTok Official",
        "privacy_level_options": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
        "comment_disabled": False,
        "duet_disabled": False,
        "stitch_disabled": True,
        "max_video_post_duration_sec": 300,
    },
    "error": OK,
}
COMPLETE = {
    "data": {
        "status": "PUBLISH_COMPLETE",
        "publicaly_available_post_id": [7291234567890123456],
        "uploaded_bytes": 10,
    },
    "error": OK,
}
PROCESSING = {"data": {"status": "PROCESSING_UPLOAD", "uploaded_bytes": 4}, "error": OK}


@pytest.fixture
async def tiktok():
    platform = FakePlatform()
    async with platform.client() as client:
        yield (
            TikTokAdapter(
                "client-key",
                "client-secret",
                http_client=client,
                status_poll_interval_s=0,
                status_poll_attempts=3,
            ),
            platform,
        )


def post(text="Behind the scenes #studio", media=None, **options):
    options.setdefault("privacy_level", "PUBLIC_TO_EVERYONE")
    media = (
        (MediaAttachment(content=b"0123456789", mime_type="video/mp4"),) if media is None else tuple(media)
    )
    return PublishRequest(text=text, media=media, idempotency_key="job-1:tiktok", options=options)


def video_fixtures(platform, *statuses):
    platform.on("POST", "/v2/post/publish/creator_info/query/", answer(200, CREATOR))
    platform.on(
        "POST",
        "/v2/post/publish/video/init/",
        answer(200, {"data": {"publish_id": PUBLISH_ID, "upload_url": UPLOAD_URL}, "error": OK}),
    )
    platform.on("POST", "/v2/post/publish/status/fetch/", *(answer(200, s) for s in statuses))


async def test_authorize_url_uses_client_key_and_comma_scopes(tiktok):
    adapter, _ = tiktok
    url = await adapter.authorize_url("st", "challenge", "https://app.example/cb", adapter.default_scopes)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert urlsplit(url).netloc == "www.tiktok.com"
    assert query["client_key"] == "client-key" and "client_id" not in query
    assert query["scope"] == "user.info.basic,video.publish,video.upload,video.list"
    assert "code_challenge" not in query  # TikTok's web login takes no PKCE


async def test_exchange_and_refresh_with_tiktoks_rotating_refresh_token(tiktok):
    adapter, platform = tiktok
    platform.on(
        "POST",
        "/v2/oauth/token/",
        answer(
            200,
            {
                "access_token": "act.1",
                "expires_in": 86400,
                "open_id": "afd97af1",
                "refresh_expires_in": 31536000,
                "refresh_token": "rft.1",
                "scope": "user.info.basic,video.publish",
                "token_type": "Bearer",
            },
        ),
        answer(
            200,
            {
                "access_token": "act.2",
                "expires_in": 86400,
                "open_id": "afd97af1",
                "refresh_expires_in": 31535000,
                "refresh_token": "rft.2",
                "scope": "user.info.basic,video.publish",
                "token_type": "Bearer",
            },
        ),
    )
    first = await adapter.exchange_code(
        AuthorizationCode(code="c", code_verifier="v" * 43, redirect_uri="https://a/cb")
    )
    form = form_of(platform.requests[0])
    assert form["client_key"] == "client-key" and form["client_secret"] == "client-secret"
    assert first.scopes == ("user.info.basic", "video.publish")
    again = await adapter.refresh("rft.1")
    assert again.refresh_token == SecretStr("rft.2")


async def test_an_expired_refresh_token_is_an_auth_failure(tiktok):
    adapter, platform = tiktok
    platform.on(
        "POST",
        "/v2/oauth/token/",
        answer(
            400,
            {
                "error": "invalid_grant",
                "error_description": "Refresh token is invalid or expired.",
                "log_id": "x",
            },
        ),
    )
    with pytest.raises(AuthFailure):
        await adapter.refresh("rft.1")


async def test_revoke(tiktok):
    adapter, platform = tiktok
    platform.on("POST", "/v2/oauth/revoke/", answer(200, {}))
    await adapter.revoke("act.1")
    assert form_of(platform.requests[0])["token"] == "act.1"


async def test_account_is_the_user_info(tiktok):
    adapter, platform = tiktok
    platform.on(
        "GET",
        "/v2/user/info/",
        answer(
            200,
            {"data": {"user": {"open_id": "723f24d7-e717-40f8", "display_name": "Tik Toker"}}, "error": OK},
        ),
    )
    account = await adapter.get_account(TOKEN)
    assert (account.id, account.name) == ("723f24d7-e717-40f8", "Tik Toker")


async def test_publish_video_direct_post_with_the_creators_privacy_and_settings(tiktok):
    adapter, platform = tiktok
    video_fixtures(platform, PROCESSING, COMPLETE)
    platform.on("PUT", "/video/", answer(201))
    published = await adapter.publish(TOKEN, post(disable_comment="true"))
    init = json_of(platform.calls("POST", "/v2/post/publish/video/init/")[0])
    assert init["source_info"] == {
        "source": "FILE_UPLOAD",
        "video_size": 10,
        "chunk_size": 10,
        "total_chunk_count": 1,
    }
    assert init["post_info"] == {
        "privacy_level": "PUBLIC_TO_EVERYONE",
        "disable_comment": True,
        "disable_duet": False,
        "disable_stitch": True,  # the creator has stitch off: TikTok's rules keep it off
        "title": "Behind the scenes #studio",
    }
    (put,) = platform.calls("PUT", "/video/")
    assert put.headers["content-range"] == "bytes 0-9/10" and put.content == b"0123456789"
    assert "authorization" not in put.headers
    assert published.remote_id == "7291234567890123456"


async def test_a_large_video_goes_in_chunks_the_last_taking_the_remainder(tiktok, monkeypatch):
    adapter, platform = tiktok
    monkeypatch.setattr("aligned_connections.adapters.platforms.tiktok.SINGLE_CHUNK_MAX", 5)
    monkeypatch.setattr("aligned_connections.adapters.platforms.tiktok.CHUNK", 4)
    video_fixtures(platform, COMPLETE)
    platform.on("PUT", "/video/", answer(206), answer(201))
    await adapter.publish(TOKEN, post())
    init = json_of(platform.calls("POST", "/v2/post/publish/video/init/")[0])
    assert init["source_info"]["chunk_size"] == 4 and init["source_info"]["total_chunk_count"] == 2
    ranges = [r.headers["content-range"] for r in platform.calls("PUT", "/video/")]
    assert ranges == ["bytes 0-3/10", "bytes 4-9/10"]


async def test_publish_photos_pulled_from_our_urls(tiktok):
    adapter, platform = tiktok
    platform.on("POST", "/v2/post/publish/creator_info/query/", answer(200, CREATOR))
    platform.on(
        "POST",
        "/v2/post/publish/content/init/",
        answer(200, {"data": {"publish_id": "p_pub_url~v2.123"}, "error": OK}),
    )
    platform.on(
        "POST",
        "/v2/post/publish/status/fetch/",
        answer(200, {"data": {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": []}, "error": OK}),
    )
    photos = [
        MediaAttachment(url=f"https://media.example/p{i}.jpg", size_bytes=10, mime_type="image/jpeg")
        for i in (1, 2)
    ]
    published = await adapter.publish(TOKEN, post(media=photos, title="Studio", privacy_level="SELF_ONLY"))
    body = json_of(platform.calls("POST", "/v2/post/publish/content/init/")[0])
    assert body["media_type"] == "PHOTO" and body["post_mode"] == "DIRECT_POST"
    assert body["source_info"]["photo_images"] == [
        "https://media.example/p1.jpg",
        "https://media.example/p2.jpg",
    ]
    assert (
        body["post_info"]["title"] == "Studio"
        and body["post_info"]["description"] == "Behind the scenes #studio"
    )
    assert published.remote_id == "p_pub_url~v2.123"  # a private post has no public id


async def test_without_a_privacy_level_the_creator_offers_nothing_is_sent(tiktok):
    adapter, platform = tiktok
    platform.on("POST", "/v2/post/publish/creator_info/query/", answer(200, CREATOR))
    with pytest.raises(Rejected) as refused:
        await adapter.publish(TOKEN, post(privacy_level="FOLLOWER_OF_CREATOR"))
    assert "PUBLIC_TO_EVERYONE" in str(refused.value)
    assert not platform.calls("POST", "/v2/post/publish/video/init/")
    with pytest.raises(Rejected):
        await adapter.publish(TOKEN, post(media=[]))  # text alone is not a TikTok post


async def test_a_lost_last_chunk_carries_the_publish_id_and_is_settled_by_status_not_by_resending(tiktok):
    adapter, platform = tiktok
    video_fixtures(platform, PROCESSING, COMPLETE)
    platform.on("PUT", "/video/", lost())
    with pytest.raises(UnknownOutcome) as unknown:
        await adapter.publish(TOKEN, post())
    assert unknown.value.remote_id == PUBLISH_ID
    with pytest.raises(Retryable):  # still processing: not a post yet, and no reason to post again
        await adapter.get_post_status(TOKEN, PUBLISH_ID)
    status = await adapter.get_post_status(TOKEN, PUBLISH_ID)
    assert status is not None and status.remote_id == "7291234567890123456"
    assert (
        len(platform.calls("PUT", "/video/")) == 1
        and len(platform.calls("POST", "/v2/post/publish/video/init/")) == 1
    )


async def test_still_processing_after_the_checks_is_an_unknown_outcome_with_the_publish_id(tiktok):
    adapter, platform = tiktok
    video_fixtures(platform, PROCESSING)
    platform.on("PUT", "/video/", answer(201))
    with pytest.raises(UnknownOutcome) as unknown:
        await adapter.publish(TOKEN, post())
    assert unknown.value.remote_id == PUBLISH_ID


async def test_a_failed_publish_is_rejected_and_its_status_says_nothing_landed(tiktok):
    adapter, platform = tiktok
    failed = {"data": {"status": "FAILED", "fail_reason": "video_pull_failed"}, "error": OK}
    video_fixtures(platform, failed)
    platform.on("PUT", "/video/", answer(201))
    with pytest.raises(Rejected) as refused:
        await adapter.publish(TOKEN, post())
    assert refused.value.platform_message == "video_pull_failed"
    assert await adapter.get_post_status(TOKEN, PUBLISH_ID) is None


async def test_a_lost_photo_post_is_found_among_recent_videos_by_caption(tiktok):
    adapter, platform = tiktok
    videos = {
        "data": {
            "videos": [
                {
                    "id": "7291234567890123456",
                    "title": "Behind the scenes #studio",
                    "video_description": "",
                    "share_url": "https://www.tiktok.com/@tiktok/video/7291234567890123456",
                }
            ],
            "cursor": 0,
            "has_more": False,
        },
        "error": OK,
    }
    platform.on("POST", "/v2/video/list/", answer(200, videos))
    found = await adapter.find_post_by_marker(TOKEN, "Behind the scenes #studio")
    assert found is not None and found.remote_id == "7291234567890123456"
    assert await adapter.find_post_by_marker(TOKEN, "never posted") is None


async def test_rate_limits_and_spam_caps_are_retryable_later(tiktok):
    adapter, platform = tiktok
    platform.on(
        "POST",
        "/v2/post/publish/creator_info/query/",
        answer(
            429,
            {
                "data": {},
                "error": {"code": "rate_limit_exceeded", "message": "API rate limit exceeded", "log_id": "x"},
            },
        ),
        answer(
            403,
            {
                "data": {},
                "error": {
                    "code": "spam_risk_too_many_posts",
                    "message": "The daily post cap is reached",
                    "log_id": "x",
                },
            },
        ),
    )
    with pytest.raises(Retryable) as first:
        await adapter.publish(TOKEN, post())
    assert first.value.status_code == 429 and first.value.retry_after == 60
    with pytest.raises(Retryable) as second:
        await adapter.publish(TOKEN, post())
    assert second.value.retry_after == 86400 and "daily post cap" in (second.value.platform_message or "")


async def test_an_unaudited_app_posting_publicly_is_rejected_in_tiktoks_words(tiktok):
    adapter, platform = tiktok
    platform.on("POST", "/v2/post/publish/creator_info/query/", answer(200, CREATOR))
    body = {
        "data": {},
        "error": {
            "code": "unaudited_client_can_only_post_to_private_accounts",
            "message": "Please review our integration guidelines",
            "log_id": "x",
        },
    }
    platform.on("POST", "/v2/post/publish/video/init/", answer(403, body))
    with pytest.raises(Rejected) as refused:
        await adapter.publish(TOKEN, post())
    assert "unaudited_client" in (refused.value.platform_message or "")


async def test_a_revoked_token_is_an_auth_failure(tiktok):
    adapter, platform = tiktok
    body = {
        "data": {},
        "error": {
            "code": "access_token_invalid",
            "message": "The access token is invalid or not found in the request.",
            "log_id": "x",
        },
    }
    platform.on("POST", "/v2/post/publish/creator_info/query/", answer(401, body))
    with pytest.raises(AuthFailure):
        await adapter.publish(TOKEN, post())


async def test_metrics_come_from_video_query_and_skip_posts_without_a_public_id(tiktok):
    adapter, platform = tiktok
    videos = {
        "data": {
            "videos": [
                {
                    "id": "7291234567890123456",
                    "view_count": 5400,
                    "like_count": 320,
                    "comment_count": 12,
                    "share_count": 8,
                }
            ]
        },
        "error": OK,
    }
    platform.on("POST", "/v2/video/query/", answer(200, videos))
    points = await adapter.fetch_metrics(TOKEN, ["7291234567890123456", "p_pub_url~v2.123"])
    assert json_of(platform.requests[0]) == {"filters": {"video_ids": ["7291234567890123456"]}}
    assert {p.name: p.value for p in points} == {
        MetricName.VIDEO_VIEWS: 5400,
        MetricName.LIKES: 320,
        MetricName.COMMENTS: 12,
        MetricName.SHARES: 8,
    }
