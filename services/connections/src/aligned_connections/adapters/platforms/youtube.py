"""YouTube (Data API v3): OAuth 2 with PKCE (Google), videos.insert by resumable upload,
processing polled with videos.list, statistics for metrics.

References (developers.google.com/youtube/v3, Data API v3):
- OAuth 2.0 for web server apps: https://developers.google.com/identity/protocols/oauth2/web-server
  (access_type=offline and prompt=consent for a refresh token; PKCE S256; revoke at
  oauth2.googleapis.com/revoke; a refused refresh token is invalid_grant)
- Resumable upload: https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol
  (POST .../upload/youtube/v3/videos?uploadType=resumable answers the session URI in Location;
  PUT the bytes there; the answer is the video resource)
- videos.insert / videos.list: https://developers.google.com/youtube/v3/docs/videos (snippet.title
  up to 100 characters, no < or >; status.privacyStatus public|unlisted|private; status.uploadStatus
  uploaded|processed|failed|rejected|deleted; statistics viewCount, likeCount, commentCount)
- Errors and quota: https://developers.google.com/youtube/v3/docs/errors (403 quotaExceeded,
  uploadLimitExceeded; the daily quota resets at midnight Pacific time)

Never a duplicate: YouTube has no idempotency key. After an unknown outcome the channel's uploads
playlist (playlistItems.list, 1 quota unit) is read and the video whose description contains our
text is the post; publish is never called again before that.

Per-platform fields (`request.options`): `title` (default: the text's first line, cut to 100),
`privacy` (public by default, unlisted, private), `made_for_kids` ("true"/"false", default false).
The text is the description. Only videos: a post without one is Rejected.
Metrics: video views, likes, comments; impressions, reach and shares need the YouTube Analytics
API and are absent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
from pydantic import BaseModel, SecretStr

from aligned_connections.adapters.platforms.errors import NotSupported, PlatformError, Rejected, Retryable
from aligned_connections.adapters.platforms.http import DEFAULT_TIMEOUT, PlatformHttp, bearer
from aligned_connections.adapters.platforms.media import raw_body
from aligned_connections.adapters.platforms.models import (
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

PLATFORM = "youtube"
API = "https://www.googleapis.com"
SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.readonly",
)
PRIVACY = frozenset({"public", "unlisted", "private"})
MAX_TITLE = 100
_PACIFIC = ZoneInfo("America/Los_Angeles")
# Reasons in error.errors[].reason that mean "not today": retried after the quota's reset.
_QUOTA_REASONS = frozenset(
    {"quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded", "rateLimitExceeded"}
)


class _ChannelSnippet(BaseModel):
    title: str = ""
    customUrl: str | None = None


class _RelatedPlaylists(BaseModel):
    uploads: str


class _ContentDetails(BaseModel):
    relatedPlaylists: _RelatedPlaylists


class _Channel(BaseModel):
    id: str
    snippet: _ChannelSnippet = _ChannelSnippet()
    contentDetails: _ContentDetails | None = None


class _Channels(BaseModel):
    items: list[_Channel] = []


class _VideoStatus(BaseModel):
    uploadStatus: str = "uploaded"
    failureReason: str | None = None
    rejectionReason: str | None = None


class _Statistics(BaseModel):
    # Counts come as strings; likeCount is missing when the owner hides it.
    viewCount: int | None = None
    likeCount: int | None = None
    commentCount: int | None = None


class _Video(BaseModel):
    id: str
    status: _VideoStatus | None = None
    statistics: _Statistics | None = None


class _Videos(BaseModel):
    items: list[_Video] = []


class _ItemSnippet(BaseModel):
    description: str = ""
    resourceId: dict[str, str] = {}


class _PlaylistItem(BaseModel):
    snippet: _ItemSnippet


class _PlaylistItems(BaseModel):
    items: list[_PlaylistItem] = []


def _classify(response: httpx.Response) -> PlatformError | None:
    """Google's errors are {error: {code, message, errors: [{reason, domain}]}}."""
    try:
        body: Any = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None  # an OAuth answer ({error: "invalid_grant"}): the generic mapping reads it
    message = str(error.get("message", ""))[:500] or None
    reasons = {str(e.get("reason")) for e in error.get("errors", []) if isinstance(e, dict)}
    status = response.status_code
    if reasons & _QUOTA_REASONS:
        return Retryable(
            "YouTube's quota is spent for today",
            platform=PLATFORM,
            platform_message=message,
            status_code=429,  # a rate limit, whatever HTTP status YouTube used
            retry_after=_until_pacific_midnight(datetime.now(UTC)),
        )
    if status in (400, 403, 404, 409, 422):
        return Rejected(
            f"YouTube refused the request (HTTP {status})",
            platform=PLATFORM,
            platform_message=message,
            status_code=status,
        )
    return None


def _until_pacific_midnight(now: datetime) -> float:
    local = now.astimezone(_PACIFIC)
    midnight = datetime(local.year, local.month, local.day, tzinfo=_PACIFIC) + timedelta(days=1)
    return (midnight - local).total_seconds()


class YouTubeAdapter(OAuth2Methods):
    platform = PLATFORM
    default_scopes = SCOPES

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        http_client: httpx.AsyncClient,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        api_url: str = API,
        processing_poll_interval_s: float = 5.0,
        processing_poll_attempts: int = 12,
        marker_search_depth: int = 25,
    ) -> None:
        self._api = api_url.rstrip("/")
        self._http = PlatformHttp(PLATFORM, http_client, timeout=timeout, classify=_classify)
        endpoints = OAuthEndpoints(
            authorize="https://accounts.google.com/o/oauth2/v2/auth",
            token="https://oauth2.googleapis.com/token",
            revoke="https://oauth2.googleapis.com/revoke",
        )
        self._oauth = OAuth2Client(
            self._http,
            endpoints,
            OAuthClientCredentials(client_id, SecretStr(client_secret)),
            # Without offline access and a fresh consent Google gives no refresh token.
            dialect=OAuthDialect(extra_authorize_params=(("access_type", "offline"), ("prompt", "consent"))),
        )
        self._poll_interval_s = processing_poll_interval_s
        self._poll_attempts = processing_poll_attempts
        self._marker_search_depth = marker_search_depth

    async def get_account(self, access_token: str) -> PlatformAccount:
        channel = await self._channel(access_token)
        return PlatformAccount(
            id=channel.id, name=channel.snippet.customUrl or channel.snippet.title or channel.id
        )

    async def publish(self, access_token: str, request: PublishRequest) -> PublishedPost:
        videos = [item for item in request.media if item.mime_type.startswith("video/")]
        if len(videos) != 1 or len(request.media) != 1:
            raise Rejected("a YouTube post is exactly one video", platform=PLATFORM)
        privacy = request.options.get("privacy", "public").lower()
        if privacy not in PRIVACY:
            raise Rejected(
                f"YouTube privacy must be one of {sorted(PRIVACY)}, not {privacy!r}", platform=PLATFORM
            )
        video = videos[0]
        metadata = {
            "snippet": {"title": _title(request), "description": request.text},
            "status": {
                "privacyStatus": privacy,
                "selfDeclaredMadeForKids": request.options.get("made_for_kids", "false").lower() == "true",
            },
        }
        headers, body = raw_body(self._http.client, video, PLATFORM)
        session = await self._http.request(
            "POST",
            f"{self._api}/upload/youtube/v3/videos",
            params={"uploadType": "resumable", "part": "snippet,status"},
            headers=bearer(access_token)
            | {
                "X-Upload-Content-Type": video.mime_type,
                "X-Upload-Content-Length": headers.get("Content-Length", ""),
            },
            json=metadata,
        )
        location = session.headers.get("location")
        if not location:
            raise Retryable(
                "YouTube gave no upload session", platform=PLATFORM, status_code=session.status_code
            )
        # Sending the bytes is what makes the video: a lost answer here is an unknown outcome.
        response = await self._http.request(
            "PUT", location, creates=True, headers=bearer(access_token) | headers, content=body
        )
        made = self._http.parse(response, _Video, creates=True)
        await self._wait_for_processing(access_token, made.id)
        return PublishedPost(remote_id=made.id, url=_url_of(made.id))

    async def get_post_status(self, access_token: str, remote_id: str) -> PostStatus | None:
        video = await self._video(access_token, remote_id, "status")
        if video is None:
            return None
        state = (
            PostState.DELETED
            if _status_of(video) in ("deleted", "failed", "rejected")
            else PostState.PUBLISHED
        )
        return PostStatus(remote_id=video.id, state=state, url=_url_of(video.id))

    async def find_post_by_marker(self, access_token: str, marker: str) -> PublishedPost | None:
        channel = await self._channel(access_token, part="contentDetails")
        if channel.contentDetails is None:
            return None
        response = await self._http.request(
            "GET",
            f"{self._api}/youtube/v3/playlistItems",
            headers=bearer(access_token),
            params={
                "part": "snippet",
                "playlistId": channel.contentDetails.relatedPlaylists.uploads,
                "maxResults": self._marker_search_depth,
            },
        )
        wanted = " ".join(marker.split())
        for item in self._http.parse(response, _PlaylistItems).items:  # newest first
            video_id = item.snippet.resourceId.get("videoId")
            if video_id and wanted and wanted in " ".join(item.snippet.description.split()):
                return PublishedPost(remote_id=video_id, url=_url_of(video_id))
        return None

    async def fetch_metrics(self, access_token: str, remote_ids: Sequence[str]) -> list[MetricPoint]:
        points: list[MetricPoint] = []
        for start in range(0, len(remote_ids), 50):  # videos.list takes up to 50 ids
            response = await self._http.request(
                "GET",
                f"{self._api}/youtube/v3/videos",
                headers=bearer(access_token),
                params={"part": "statistics", "id": ",".join(remote_ids[start : start + 50])},
            )
            now = datetime.now(UTC)
            for video in self._http.parse(response, _Videos).items:  # deleted videos are not listed
                stats = video.statistics or _Statistics()
                values = {
                    MetricName.VIDEO_VIEWS: stats.viewCount,
                    MetricName.LIKES: stats.likeCount,
                    MetricName.COMMENTS: stats.commentCount,
                }
                points.extend(metric_points(video.id, values, now))
        return points

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        raise NotSupported("YouTube's PubSubHubbub feed is not supported", platform=PLATFORM)

    async def _channel(self, access_token: str, part: str = "snippet") -> _Channel:
        response = await self._http.request(
            "GET",
            f"{self._api}/youtube/v3/channels",
            headers=bearer(access_token),
            params={"part": part, "mine": "true"},
        )
        channels = self._http.parse(response, _Channels).items
        if not channels:
            raise Rejected("this Google account has no YouTube channel", platform=PLATFORM)
        return channels[0]

    async def _video(self, access_token: str, video_id: str, part: str) -> _Video | None:
        response = await self._http.request(
            "GET",
            f"{self._api}/youtube/v3/videos",
            headers=bearer(access_token),
            params={"part": part, "id": video_id},
        )
        items = self._http.parse(response, _Videos).items
        return items[0] if items else None

    async def _wait_for_processing(self, access_token: str, video_id: str) -> None:
        """The video exists once uploaded; YouTube publishes it when processing is done. A failure
        or rejection within the checks is Rejected; still processing after them is published (the
        video is made, and YouTube finishes it on its own)."""
        for _ in range(self._poll_attempts):
            video = await self._video(access_token, video_id, "status")
            status = _status_of(video) if video is not None else "uploaded"
            if status == "processed":
                return
            if status in ("failed", "rejected", "deleted") and video is not None and video.status is not None:
                reason = video.status.failureReason or video.status.rejectionReason or status
                raise Rejected(
                    f"YouTube did not accept the video ({status})", platform=PLATFORM, platform_message=reason
                )
            await asyncio.sleep(self._poll_interval_s)


def _status_of(video: _Video) -> str:
    return video.status.uploadStatus if video.status is not None else "uploaded"


def _title(request: PublishRequest) -> str:
    given = request.options.get("title") or next(
        (line for line in request.text.splitlines() if line.strip()), ""
    )
    # YouTube refuses < and > in a title, and a title longer than 100 characters.
    title = given.replace("<", "").replace(">", "").strip()[:MAX_TITLE]
    return title or "Untitled"


def _url_of(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={quote(video_id, safe='')}"
