"""TikTok (Content Posting API v2, direct post): Login Kit OAuth, creator_info, chunked video
upload, photo posts pulled from our URLs, publish status polled.

References (developers.tiktok.com/doc, v2 APIs):
- Login Kit for Web: https://developers.tiktok.com/doc/login-kit-web (client_key, comma-separated
  scopes; the web flow takes no PKCE) and OAuth tokens:
  https://developers.tiktok.com/doc/oauth-user-access-token-management (access 24 h, refresh
  365 days, refresh may return a new refresh token; revoke at /v2/oauth/revoke/)
- Direct post: https://developers.tiktok.com/doc/content-posting-api-reference-direct-post
  (POST /v2/post/publish/creator_info/query/, /v2/post/publish/video/init/ with FILE_UPLOAD,
  /v2/post/publish/content/init/ for photos with PULL_FROM_URL)
- Media transfer: https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide
  (chunks of 5-64 MB, the last up to 128 MB, total_chunk_count = floor(size / chunk_size); a video
  under 5 MB is one chunk; PUT with Content-Range; 206 until the last, then 201)
- Status: https://developers.tiktok.com/doc/content-posting-api-reference-get-video-status
  (PROCESSING_UPLOAD, PROCESSING_DOWNLOAD, SEND_TO_USER_INBOX, PUBLISH_COMPLETE, FAILED;
  the post's id in `publicaly_available_post_id`, TikTok's spelling)
- Errors: {"error": {"code", "message", "log_id"}}, code "ok" on success
- Display API for metrics: https://developers.tiktok.com/doc/tiktok-api-v2-video-query

Never a duplicate: the publish_id is known as soon as init answers and before any byte that
could make a post is sent, so a lost answer on the last chunk (or a post still processing) is an
UnknownOutcome carrying it, and get_post_status asks TikTok about it. While TikTok still
processes, get_post_status raises Retryable: the attempt stays unknown and nothing is re-sent.
A lost answer on a photo init (which makes the post) is settled from the account's recent videos
(video.list) by caption.

Per-platform fields (`request.options`): `privacy_level`, required and one of the creator's
privacy_level_options (TikTok forbids a default), `disable_comment`, `disable_duet`,
`disable_stitch` ("true"/"false"), `title` for photo posts. Metrics: views, likes, comments,
shares; impressions and reach are not in the API and are absent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, SecretStr

from aligned_connections.adapters.platforms.errors import (
    AuthFailure,
    NotSupported,
    PlatformError,
    Rejected,
    Retryable,
    UnknownOutcome,
)
from aligned_connections.adapters.platforms.http import DEFAULT_TIMEOUT, PlatformHttp, bearer
from aligned_connections.adapters.platforms.media import media_chunks, size_of
from aligned_connections.adapters.platforms.models import (
    MediaAttachment,
    MetricName,
    MetricPoint,
    PlatformAccount,
    PostState,
    PostStatus,
    PublishedPost,
    PublishRequest,
    WebhookEvent,
    metric_points,
)
from aligned_connections.adapters.platforms.oauth2 import (
    OAuth2Client,
    OAuth2Methods,
    OAuthClientCredentials,
    OAuthDialect,
    OAuthEndpoints,
)

PLATFORM = "tiktok"
API = "https://open.tiktokapis.com"
SCOPES = ("user.info.basic", "video.publish", "video.upload", "video.list")
MB = 1_000_000
SINGLE_CHUNK_MAX = 64 * MB  # a video up to this size goes in one chunk
CHUNK = 10 * MB  # otherwise chunks of this size, the last taking the remainder

_AUTH_CODES = frozenset({"access_token_invalid", "scope_not_authorized", "scope_permission_missed"})
# Errors that pass with time: how long to wait.
_LATER = {
    "rate_limit_exceeded": 60.0,
    "spam_risk_too_many_pending_share": 3600.0,
    "spam_risk_too_many_posts": 86400.0,
    "reached_active_user_cap": 86400.0,
}


class _Error(BaseModel):
    code: str = "ok"
    message: str = ""
    log_id: str | None = None


class _User(BaseModel):
    open_id: str
    display_name: str = ""


class _UserData(BaseModel):
    user: _User


class _UserAnswer(BaseModel):
    data: _UserData


class _CreatorInfo(BaseModel):
    creator_username: str = ""
    privacy_level_options: list[str] = []
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int | None = None


class _CreatorAnswer(BaseModel):
    data: _CreatorInfo


class _Init(BaseModel):
    publish_id: str
    upload_url: str | None = None


class _InitAnswer(BaseModel):
    data: _Init


class _Status(BaseModel):
    status: str
    fail_reason: str | None = None
    publicaly_available_post_id: list[int | str] = []


class _StatusAnswer(BaseModel):
    data: _Status


class _Video(BaseModel):
    id: str
    title: str = ""
    video_description: str = ""
    share_url: str | None = None
    view_count: int | None = None
    like_count: int | None = None
    comment_count: int | None = None
    share_count: int | None = None


class _Videos(BaseModel):
    videos: list[_Video] = []


class _VideosAnswer(BaseModel):
    data: _Videos = _Videos()


def _classify(response: httpx.Response) -> PlatformError | None:
    try:
        body: Any = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None  # an OAuth answer ({error: "invalid_grant", ...}): the generic mapping reads it
    code = str(error.get("code", ""))
    message = f"{code}: {error.get('message', '')}".strip(": ")
    status = response.status_code
    if code in _AUTH_CODES:
        return AuthFailure(
            "TikTok refused the token", platform=PLATFORM, platform_message=message, status_code=status
        )
    if code in _LATER:
        return Retryable(
            "TikTok asks us to wait",
            platform=PLATFORM,
            platform_message=message,
            status_code=429,
            retry_after=_LATER[code],
        )
    return None


class TikTokAdapter(OAuth2Methods):
    platform = PLATFORM
    default_scopes = SCOPES

    def __init__(
        self,
        client_key: str,
        client_secret: str,
        *,
        http_client: httpx.AsyncClient,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        api_url: str = API,
        status_poll_interval_s: float = 5.0,
        status_poll_attempts: int = 12,
        marker_search_depth: int = 20,
    ) -> None:
        self._api = api_url.rstrip("/")
        self._http = PlatformHttp(PLATFORM, http_client, timeout=timeout, classify=_classify)
        endpoints = OAuthEndpoints(
            authorize="https://www.tiktok.com/v2/auth/authorize/",
            token=f"{self._api}/v2/oauth/token/",
            revoke=f"{self._api}/v2/oauth/revoke/",
        )
        self._oauth = OAuth2Client(
            self._http,
            endpoints,
            OAuthClientCredentials(client_key, SecretStr(client_secret)),
            dialect=OAuthDialect(client_id_field="client_key", scope_separator=",", pkce=False),
        )
        self._poll_interval_s = status_poll_interval_s
        self._poll_attempts = status_poll_attempts
        self._marker_search_depth = marker_search_depth

    async def get_account(self, access_token: str) -> PlatformAccount:
        response = await self._http.request(
            "GET",
            f"{self._api}/v2/user/info/",
            headers=bearer(access_token),
            params={"fields": "open_id,display_name"},
        )
        user = self._http.parse(response, _UserAnswer).data.user
        return PlatformAccount(id=user.open_id, name=user.display_name or user.open_id)

    async def publish(self, access_token: str, request: PublishRequest) -> PublishedPost:
        media = request.media
        videos = [item for item in media if item.mime_type.startswith("video/")]
        if not media or (videos and len(media) > 1):
            raise Rejected("a TikTok post is one video, or photos", platform=PLATFORM)
        creator = await self._creator_info(access_token)
        post_info = self._post_info(request, creator)
        if videos:
            publish_id = await self._post_video(access_token, videos[0], post_info | {"title": request.text})
        else:
            publish_id = await self._post_photos(access_token, media, post_info, request)
        return await self._wait_for_publish(access_token, publish_id)

    async def get_post_status(self, access_token: str, remote_id: str) -> PostStatus | None:
        if not _is_publish_id(remote_id):
            found = await self._videos(access_token, [remote_id])
            if not found:
                return None
            return PostStatus(remote_id=remote_id, state=PostState.PUBLISHED, url=found[0].share_url)
        status = await self._status(access_token, remote_id)
        if status.status == "PUBLISH_COMPLETE":
            post_id = _post_id(status) or remote_id
            return PostStatus(remote_id=post_id, state=PostState.PUBLISHED)
        if status.status == "FAILED":
            return None  # nothing was posted: a new attempt is safe
        # Uploading, downloading or processing: not yet a post, and not a reason to post again.
        raise Retryable(
            f"TikTok is still processing ({status.status})",
            platform=PLATFORM,
            retry_after=self._poll_interval_s,
        )

    async def find_post_by_marker(self, access_token: str, marker: str) -> PublishedPost | None:
        response = await self._http.request(
            "POST",
            f"{self._api}/v2/video/list/",
            headers=bearer(access_token),
            params={"fields": "id,title,video_description,share_url"},
            json={"max_count": self._marker_search_depth},
        )
        wanted = " ".join(marker.split())
        for video in self._http.parse(response, _VideosAnswer).data.videos:  # newest first
            caption = " ".join(f"{video.title} {video.video_description}".split())
            if wanted and wanted in caption:
                return PublishedPost(remote_id=video.id, url=video.share_url)
        return None

    async def fetch_metrics(self, access_token: str, remote_ids: Sequence[str]) -> list[MetricPoint]:
        ids = [r for r in remote_ids if not _is_publish_id(r)]  # a post without a public id has no metrics
        points: list[MetricPoint] = []
        for start in range(0, len(ids), 20):  # video/query takes up to 20 ids
            now = datetime.now(UTC)
            for video in await self._videos(access_token, ids[start : start + 20]):
                values = {
                    MetricName.VIDEO_VIEWS: video.view_count,
                    MetricName.LIKES: video.like_count,
                    MetricName.COMMENTS: video.comment_count,
                    MetricName.SHARES: video.share_count,
                }
                points.extend(metric_points(video.id, values, now))
        return points

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        raise NotSupported("TikTok's webhooks are not supported", platform=PLATFORM)

    async def _creator_info(self, access_token: str) -> _CreatorInfo:
        response = await self._http.request(
            "POST", f"{self._api}/v2/post/publish/creator_info/query/", headers=bearer(access_token), json={}
        )
        return self._http.parse(response, _CreatorAnswer).data

    def _post_info(self, request: PublishRequest, creator: _CreatorInfo) -> dict[str, object]:
        privacy = request.options.get("privacy_level", "")
        if privacy not in creator.privacy_level_options:
            # TikTok's rules: the user picks from the creator's current options, with no default.
            raise Rejected(
                f"TikTok needs a privacy_level, one of {creator.privacy_level_options}",
                platform=PLATFORM,
                platform_message=f"privacy_level {privacy!r} is not offered to @{creator.creator_username}",
            )

        def flag(name: str, forced: bool) -> bool:
            return forced or request.options.get(name, "false").lower() == "true"

        return {
            "privacy_level": privacy,
            "disable_comment": flag("disable_comment", creator.comment_disabled),
            "disable_duet": flag("disable_duet", creator.duet_disabled),
            "disable_stitch": flag("disable_stitch", creator.stitch_disabled),
        }

    async def _post_video(
        self, access_token: str, video: MediaAttachment, post_info: dict[str, object]
    ) -> str:
        size = size_of(video) or 0
        chunk_size, count = _chunk_plan(size)
        # init makes no post until every byte is uploaded: a lost answer here is only Retryable.
        response = await self._http.request(
            "POST",
            f"{self._api}/v2/post/publish/video/init/",
            headers=bearer(access_token),
            json={
                "post_info": post_info,  # its title is the caption
                "source_info": {
                    "source": "FILE_UPLOAD",
                    "video_size": size,
                    "chunk_size": chunk_size,
                    "total_chunk_count": count,
                },
            },
        )
        init = self._http.parse(response, _InitAnswer).data
        if init.upload_url is None:
            raise Rejected("TikTok gave no upload URL", platform=PLATFORM)
        sent = 0
        buffer = bytearray()
        index = 0
        async for chunk in media_chunks(self._http.client, video, PLATFORM):
            buffer.extend(chunk)
            while index < count - 1 and len(buffer) >= chunk_size:
                await self._put_chunk(init, bytes(buffer[:chunk_size]), sent, size, last=False)
                sent += chunk_size
                del buffer[:chunk_size]
                index += 1
        await self._put_chunk(init, bytes(buffer), sent, size, last=True)
        return init.publish_id

    async def _put_chunk(self, init: _Init, data: bytes, first: int, total: int, *, last: bool) -> None:
        assert init.upload_url is not None
        try:
            # The last chunk is what makes the post: its lost answer is an unknown outcome.
            await self._http.request(
                "PUT",
                init.upload_url,
                creates=last,
                headers={
                    "Content-Type": "video/mp4",
                    "Content-Range": f"bytes {first}-{first + len(data) - 1}/{total}",
                },
                content=data,
            )
        except UnknownOutcome as lost:
            raise UnknownOutcome(str(lost), platform=PLATFORM, remote_id=init.publish_id) from lost

    async def _post_photos(
        self,
        access_token: str,
        media: Sequence[MediaAttachment],
        post_info: dict[str, object],
        request: PublishRequest,
    ) -> str:
        urls = [item.url for item in media if item.url]
        if len(urls) != len(media):
            raise Rejected("TikTok pulls photos from URLs (a domain verified with TikTok)", platform=PLATFORM)
        response = await self._http.request(
            "POST",
            f"{self._api}/v2/post/publish/content/init/",
            creates=True,  # TikTok pulls the photos and posts on its own from here
            headers=bearer(access_token),
            json={
                "post_info": post_info
                | {"title": request.options.get("title", "")[:90], "description": request.text},
                "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0, "photo_images": urls},
                "post_mode": "DIRECT_POST",
                "media_type": "PHOTO",
            },
        )
        return self._http.parse(response, _InitAnswer, creates=True).data.publish_id

    async def _wait_for_publish(self, access_token: str, publish_id: str) -> PublishedPost:
        for _ in range(self._poll_attempts):
            status = await self._status(access_token, publish_id)
            if status.status == "PUBLISH_COMPLETE":
                post_id = _post_id(status)
                # A private post has no public id: the publish id stands for it.
                return PublishedPost(remote_id=post_id or publish_id)
            if status.status == "FAILED":
                raise Rejected(
                    "TikTok did not publish the post", platform=PLATFORM, platform_message=status.fail_reason
                )
            await asyncio.sleep(self._poll_interval_s)
        # Still processing: the attempt stays unknown and is settled by get_post_status later.
        raise UnknownOutcome("TikTok is still processing the post", platform=PLATFORM, remote_id=publish_id)

    async def _status(self, access_token: str, publish_id: str) -> _Status:
        response = await self._http.request(
            "POST",
            f"{self._api}/v2/post/publish/status/fetch/",
            headers=bearer(access_token),
            json={"publish_id": publish_id},
        )
        return self._http.parse(response, _StatusAnswer).data

    async def _videos(self, access_token: str, ids: Sequence[str]) -> list[_Video]:
        response = await self._http.request(
            "POST",
            f"{self._api}/v2/video/query/",
            headers=bearer(access_token),
            params={"fields": "id,share_url,view_count,like_count,comment_count,share_count"},
            json={"filters": {"video_ids": list(ids)}},
        )
        return self._http.parse(response, _VideosAnswer).data.videos


def _chunk_plan(size: int) -> tuple[int, int]:
    if size <= SINGLE_CHUNK_MAX:
        return size, 1
    return CHUNK, size // CHUNK  # the last chunk takes the remainder (under 2 x CHUNK)


def _is_publish_id(remote_id: str) -> bool:
    return remote_id.startswith(("v_pub", "p_pub", "v_inbox", "p_inbox"))


def _post_id(status: _Status) -> str | None:
    return str(status.publicaly_available_post_id[0]) if status.publicaly_available_post_id else None
