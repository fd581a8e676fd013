"""YouTubeAdapter against answers written from the YouTube Data API v3 reference
(developers.google.com/youtube/v3), through httpx.MockTransport."""

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from aligned_connections.adapters.platforms import (
    AuthFailure,
    AuthorizationCode,
    MediaAttachment,
    MetricName,
    PostState,
    PublishRequest,
    Rejected,
    Retryable,
    UnknownOutcome,
)
from aligned_connections.adapters.platforms.youtube import YouTubeAdapter, _until_pacific_midnight

from .platform_fixtures import FakePlatform, answer, form_of, json_of, lost

pytestmark = pytest.mark.unit

TOKEN = "ya29.token"
SESSION = "https://www.googleapis.com/upload/youtube/v3/videos?uploadType=resumable&upload_id=xa298sd_f"
CHANNEL = {
    "kind": "youtube#channelListResponse",
    "items": [
        {
            "kind": "youtube#channel",
            "id": "UC_x5XG1OV2P6uZZ5FSM9Ttw",
            "snippet": {"title": "Google for Developers", "customUrl": "@googledevelopers"},
            "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": "UU_x5XG1OV2P6uZZ5FSM9Ttw"}},
        }
    ],
}
VIDEO = {
    "kind": "youtube#video",
    "id": "Ks-_Mh1QhMc",
    "status": {"uploadStatus": "uploaded", "privacyStatus": "public"},
}
QUOTA = {
    "error": {
        "code": 403,
        "message": "The request cannot be completed because you have exceeded your quota.",
        "errors": [
            {
                "message": "The request cannot be completed because you have exceeded your quota.",
                "domain": "youtube.quota",
                "reason": "quotaExceeded",
            }
        ],
    }
}


@pytest.fixture
async def youtube():
    platform = FakePlatform()
    async with platform.client() as client:
        yield (
            YouTubeAdapter("client-id", "client-secret", http_client=client, processing_poll_interval_s=0),
            platform,
        )


def video(size=10):
    return MediaAttachment(content=b"v" * size, mime_type="video/mp4")


def post(text="Our tour\nA walk through the studio", media=None, **options):
    return PublishRequest(
        text=text,
        media=(video(),) if media is None else tuple(media),
        idempotency_key="job-1:youtube",
        options=options,
    )


def upload_fixtures(platform, *statuses):
    platform.on("POST", "/upload/youtube/v3/videos", answer(200, headers={"location": SESSION}))
    platform.on("PUT", "/upload/youtube/v3/videos", answer(200, VIDEO))
    platform.on(
        "GET",
        "/youtube/v3/videos",
        *(answer(200, {"items": [{"id": "Ks-_Mh1QhMc", "status": {"uploadStatus": s}}]}) for s in statuses),
    )


async def test_authorize_url_asks_for_offline_access_with_pkce(youtube):
    adapter, _ = youtube
    url = await adapter.authorize_url("st", "challenge", "https://app.example/cb", adapter.default_scopes)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert urlsplit(url).netloc == "accounts.google.com"
    assert query["access_type"] == "offline" and query["prompt"] == "consent"
    assert query["code_challenge_method"] == "S256"
    assert "https://www.googleapis.com/auth/youtube.upload" in query["scope"].split()


async def test_exchange_and_refresh_keep_googles_single_refresh_token(youtube):
    adapter, platform = youtube
    platform.on(
        "POST",
        "/token",
        answer(
            200,
            {
                "access_token": "ya29.a",
                "expires_in": 3599,
                "refresh_token": "1//04r",
                "scope": "https://www.googleapis.com/auth/youtube.upload",
                "token_type": "Bearer",
            },
        ),
        answer(200, {"access_token": "ya29.b", "expires_in": 3599, "token_type": "Bearer"}),
    )
    first = await adapter.exchange_code(
        AuthorizationCode(code="4/0A", code_verifier="v" * 43, redirect_uri="https://a/cb")
    )
    assert first.refresh_token == SecretStr("1//04r")
    again = await adapter.refresh("1//04r")
    assert again.refresh_token == SecretStr("1//04r")  # Google sends none on refresh: the old one stays
    assert form_of(platform.requests[1])["grant_type"] == "refresh_token"


async def test_a_revoked_refresh_token_is_an_auth_failure(youtube):
    adapter, platform = youtube
    platform.on(
        "POST",
        "/token",
        answer(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}),
    )
    with pytest.raises(AuthFailure):
        await adapter.refresh("1//04r")


async def test_revoke(youtube):
    adapter, platform = youtube
    platform.on("POST", "/revoke", answer(200, {}))
    await adapter.revoke("1//04r")
    assert form_of(platform.requests[0])["token"] == "1//04r"


async def test_account_is_the_channel(youtube):
    adapter, platform = youtube
    platform.on("GET", "/youtube/v3/channels", answer(200, CHANNEL))
    account = await adapter.get_account(TOKEN)
    assert (account.id, account.name) == ("UC_x5XG1OV2P6uZZ5FSM9Ttw", "@googledevelopers")


async def test_publish_uploads_resumably_with_title_privacy_and_waits_for_processing(youtube):
    adapter, platform = youtube
    upload_fixtures(platform, "uploaded", "processed")
    published = await adapter.publish(TOKEN, post(privacy="unlisted"))
    start = platform.calls("POST", "/upload/youtube/v3/videos")[0]
    assert start.url.params["uploadType"] == "resumable" and start.url.params["part"] == "snippet,status"
    assert (
        start.headers["x-upload-content-length"] == "10"
        and start.headers["x-upload-content-type"] == "video/mp4"
    )
    assert json_of(start) == {
        "snippet": {"title": "Our tour", "description": "Our tour\nA walk through the studio"},
        "status": {"privacyStatus": "unlisted", "selfDeclaredMadeForKids": False},
    }
    put = platform.calls("PUT", "/upload/youtube/v3/videos")[0]
    assert put.url.params["upload_id"] == "xa298sd_f" and put.content == b"v" * 10
    assert len(platform.calls("GET", "/youtube/v3/videos")) == 2
    assert (published.remote_id, published.url) == (
        "Ks-_Mh1QhMc",
        "https://www.youtube.com/watch?v=Ks-_Mh1QhMc",
    )


async def test_a_title_option_wins_and_is_cut_to_youtubes_limit(youtube):
    adapter, platform = youtube
    upload_fixtures(platform, "processed")
    await adapter.publish(TOKEN, post(title="<b>" + "t" * 200))
    assert (
        json_of(platform.calls("POST", "/upload/youtube/v3/videos")[0])["snippet"]["title"] == "b" + "t" * 99
    )


async def test_still_processing_after_the_checks_is_published(youtube):
    adapter, platform = youtube
    upload_fixtures(platform, "uploaded")
    assert (await adapter.publish(TOKEN, post())).remote_id == "Ks-_Mh1QhMc"


async def test_a_video_youtube_rejects_in_processing_is_rejected_with_its_reason(youtube):
    adapter, platform = youtube
    platform.on("POST", "/upload/youtube/v3/videos", answer(200, headers={"location": SESSION}))
    platform.on("PUT", "/upload/youtube/v3/videos", answer(200, VIDEO))
    rejected = {
        "items": [
            {"id": "Ks-_Mh1QhMc", "status": {"uploadStatus": "rejected", "rejectionReason": "duplicate"}}
        ]
    }
    platform.on("GET", "/youtube/v3/videos", answer(200, rejected))
    with pytest.raises(Rejected) as refused:
        await adapter.publish(TOKEN, post())
    assert refused.value.platform_message == "duplicate"


async def test_images_or_text_alone_are_not_a_youtube_post(youtube):
    adapter, platform = youtube
    with pytest.raises(Rejected):
        await adapter.publish(TOKEN, post(media=[MediaAttachment(content=b"i", mime_type="image/png")]))
    with pytest.raises(Rejected):
        await adapter.publish(TOKEN, post(media=[]))
    with pytest.raises(Rejected):
        await adapter.publish(TOKEN, post(privacy="friends"))
    assert not platform.requests


async def test_a_lost_upload_answer_is_settled_from_the_uploads_playlist_without_uploading_again(youtube):
    adapter, platform = youtube
    platform.on("POST", "/upload/youtube/v3/videos", answer(200, headers={"location": SESSION}))
    platform.on("PUT", "/upload/youtube/v3/videos", lost())
    with pytest.raises(UnknownOutcome):
        await adapter.publish(TOKEN, post())
    platform.on("GET", "/youtube/v3/channels", answer(200, CHANNEL))
    items = {
        "items": [
            {
                "snippet": {
                    "title": "Our tour",
                    "description": "Our tour\nA walk through the studio",
                    "resourceId": {"kind": "youtube#video", "videoId": "Ks-_Mh1QhMc"},
                }
            }
        ]
    }
    platform.on("GET", "/youtube/v3/playlistItems", answer(200, items))
    found = await adapter.find_post_by_marker(TOKEN, "Our tour\nA walk through the studio")
    assert found is not None and found.remote_id == "Ks-_Mh1QhMc"
    assert (
        platform.calls("GET", "/youtube/v3/playlistItems")[0].url.params["playlistId"]
        == "UU_x5XG1OV2P6uZZ5FSM9Ttw"
    )
    assert len(platform.calls("PUT", "/upload/youtube/v3/videos")) == 1
    assert await adapter.find_post_by_marker(TOKEN, "something never posted") is None


async def test_a_spent_quota_is_retryable_at_pacific_midnight(youtube):
    adapter, platform = youtube
    platform.on("POST", "/upload/youtube/v3/videos", answer(403, QUOTA))
    with pytest.raises(Retryable) as limited:
        await adapter.publish(TOKEN, post())
    assert limited.value.status_code == 429 and 0 < (limited.value.retry_after or 0) <= 86400 + 3600
    assert "exceeded your quota" in (limited.value.platform_message or "")
    # 08:00 UTC on a winter day is midnight in California: a whole day to wait.
    assert _until_pacific_midnight(datetime(2026, 1, 15, 8, 0, tzinfo=UTC)) == 86400


async def test_invalid_metadata_is_rejected_in_youtubes_words(youtube):
    adapter, platform = youtube
    body = {
        "error": {
            "code": 400,
            "message": "The request metadata specifies an invalid video title.",
            "errors": [{"domain": "youtube.video", "reason": "invalidTitle"}],
        }
    }
    platform.on("POST", "/upload/youtube/v3/videos", answer(400, body))
    with pytest.raises(Rejected) as refused:
        await adapter.publish(TOKEN, post())
    assert "invalid video title" in (refused.value.platform_message or "")


async def test_a_revoked_token_is_an_auth_failure(youtube):
    adapter, platform = youtube
    body = {
        "error": {
            "code": 401,
            "message": "Request had invalid authentication credentials.",
            "errors": [{"reason": "authError"}],
            "status": "UNAUTHENTICATED",
        }
    }
    platform.on("POST", "/upload/youtube/v3/videos", answer(401, body))
    with pytest.raises(AuthFailure):
        await adapter.publish(TOKEN, post())


async def test_status_published_deleted_or_unknown(youtube):
    adapter, platform = youtube
    platform.on(
        "GET",
        "/youtube/v3/videos",
        answer(200, {"items": [{"id": "Ks-_Mh1QhMc", "status": {"uploadStatus": "processed"}}]}),
        answer(200, {"items": [{"id": "Ks-_Mh1QhMc", "status": {"uploadStatus": "deleted"}}]}),
        answer(200, {"items": []}),
    )
    first = await adapter.get_post_status(TOKEN, "Ks-_Mh1QhMc")
    assert first is not None and first.state is PostState.PUBLISHED
    second = await adapter.get_post_status(TOKEN, "Ks-_Mh1QhMc")
    assert second is not None and second.state is PostState.DELETED
    assert await adapter.get_post_status(TOKEN, "Ks-_Mh1QhMc") is None


async def test_metrics_are_views_likes_and_comments_and_a_hidden_like_count_is_absent(youtube):
    adapter, platform = youtube
    body = {
        "items": [
            {
                "id": "a",
                "statistics": {
                    "viewCount": "1200",
                    "likeCount": "40",
                    "favoriteCount": "0",
                    "commentCount": "5",
                },
            },
            {"id": "b", "statistics": {"viewCount": "7", "favoriteCount": "0", "commentCount": "0"}},
        ]
    }
    platform.on("GET", "/youtube/v3/videos", answer(200, body))
    points = await adapter.fetch_metrics(TOKEN, ["a", "b", "gone"])
    assert platform.requests[0].url.params["id"] == "a,b,gone"
    by_video = {(p.remote_id, p.name): p.value for p in points}
    assert by_video == {
        ("a", MetricName.VIDEO_VIEWS): 1200,
        ("a", MetricName.LIKES): 40,
        ("a", MetricName.COMMENTS): 5,
        ("b", MetricName.VIDEO_VIEWS): 7,
        ("b", MetricName.COMMENTS): 0,
    }
