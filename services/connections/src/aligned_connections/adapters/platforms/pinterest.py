"""Pinterest over the Pinterest API v5 (api.pinterest.com/v5).

Reference: https://developers.pinterest.com/docs/api/v5/ (oauth/token, user_account, boards/list,
pins/create, pins/list, pins/get, pins/analytics, media/create, media/get) and
https://developers.pinterest.com/docs/getting-started/set-up-authentication-and-authorization/.

Connecting: www.pinterest.com/oauth/ with boards:read, pins:read, pins:write and
user_accounts:read (Pinterest documents no PKCE, so the challenge is not sent); the code is
exchanged at POST /oauth/token with the app's id and secret as HTTP Basic credentials. Access
tokens last 30 days, refresh tokens a year; refresh answers carry a new refresh token
(continuous refresh), which replaces the old one. Pinterest has no revocation endpoint:
revoke() is NotSupported and the person removes the app in their Pinterest settings.

A Pin goes to a board, so every board the login owns (GET /boards) is its own connection, named
"<username> / <board>" and holding the login's tokens: choosing the connection is choosing the
board. Each board connection refreshes with the refresh token it holds; should Pinterest ever
refuse a refresh token another board's refresh replaced, that connection asks to be connected
again (invalid_grant is an auth failure), it never fails silently.

Publishing (POST /pins {board_id, description, link, title, alt_text, media_source}): one image
(`image_url`, our presigned store URL Pinterest fetches; bytes given directly go as
`image_base64`), several images (`multiple_image_urls`, 2-5, a carousel Pin), or one video:
POST /media registers an upload, the file is POSTed to the upload URL with the parameters
Pinterest gave, GET /media/{id} is polled until `succeeded`, and the Pin names `video_id`.
`options["link"]` and `options["title"]` fill the Pin's destination link and title;
`options["board_id"]` pins to another board of the same login instead of the connection's. A Pin
needs an image or a video.

No duplicate posts: Pinterest has no idempotency key. After an unknown outcome the account's
recent Pins (GET /pins) are searched for the description before anything is sent again.

Metrics (GET /pins/{id}/analytics, the last 90 days Pinterest keeps): IMPRESSION (impressions),
SAVE (saves), VIDEO_MRC_VIEW (video views). Pinterest's analytics give no likes, comments,
shares, quotes or reach: absent. Rate limits: 429 with X-RateLimit-Reset (http.retry_after_s).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from pydantic import BaseModel, SecretStr

from aligned_connections.adapters.platforms.errors import AuthFailure, NotSupported, Rejected, Retryable
from aligned_connections.adapters.platforms.http import DEFAULT_TIMEOUT, PlatformHttp, bearer
from aligned_connections.adapters.platforms.media import multipart_body
from aligned_connections.adapters.platforms.models import (
    AuthorizationCode,
    AuthorizationGrant,
    ConnectableAccount,
    MediaAttachment,
    MetricName,
    MetricPoint,
    PlatformAccount,
    PostState,
    PostStatus,
    PublishedPost,
    PublishRequest,
    TokenSet,
    WebhookEvent,
)
from aligned_connections.adapters.platforms.oauth2 import utc_now

PLATFORM = "pinterest"
API_URL = "https://api.pinterest.com/v5"
AUTHORIZE_URL = "https://www.pinterest.com/oauth/"
SCOPES = ("boards:read", "pins:read", "pins:write", "user_accounts:read")
MAX_IMAGES = 5  # multiple_image_urls: a carousel Pin of 2 to 5 images
MAX_BOARDS = 1000
ANALYTICS_DAYS = 90
METRICS = {
    "IMPRESSION": MetricName.IMPRESSIONS,
    "SAVE": MetricName.SAVES,
    "VIDEO_MRC_VIEW": MetricName.VIDEO_VIEWS,
}


class _Token(BaseModel):
    access_token: str
    refresh_token: str | None = None
    expires_in: float | None = None
    scope: str | None = None


class _UserAccount(BaseModel):
    id: str | None = None
    username: str


class _Board(BaseModel):
    id: str
    name: str


class _Boards(BaseModel):
    items: list[_Board]
    bookmark: str | None = None


class _Pin(BaseModel):
    id: str
    board_id: str | None = None
    description: str | None = None


class _Pins(BaseModel):
    items: list[_Pin]


class _MediaUpload(BaseModel):
    media_id: str
    upload_url: str
    upload_parameters: dict[str, str] = {}


class _MediaStatus(BaseModel):
    media_id: str
    status: str  # registered, processing, succeeded, failed


class PinterestAdapter:
    platform = PLATFORM

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        http_client: httpx.AsyncClient,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        marker_search_depth: int = 25,
        media_poll_interval_s: float = 3.0,
        media_poll_attempts: int = 40,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._http = PlatformHttp(PLATFORM, http_client, timeout=timeout)
        self._client_id = client_id
        self._basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self._marker_search_depth = marker_search_depth
        self._poll_interval_s = media_poll_interval_s
        self._poll_attempts = media_poll_attempts
        self._sleep = sleep
        self._clock = clock

    async def authorize_url(
        self, state: str, code_challenge: str, redirect_uri: str, scopes: Sequence[str]
    ) -> str:
        asked = [scope for scope in scopes if ":" in scope and scope not in SCOPES]  # Pinterest's own
        query = urlencode(
            {
                "client_id": self._client_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": ",".join([*SCOPES, *asked]),
                "state": state,
            }
        )
        return f"{AUTHORIZE_URL}?{query}"

    async def exchange_code(self, grant: AuthorizationGrant) -> TokenSet:
        if not isinstance(grant, AuthorizationCode):
            raise NotSupported("Pinterest connects with OAuth, not an app password", platform=PLATFORM)
        form = {"grant_type": "authorization_code", "code": grant.code, "redirect_uri": grant.redirect_uri}
        return await self._token(form, previous_refresh_token=None)

    async def refresh(self, refresh_token: str) -> TokenSet:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return await self._token(form, previous_refresh_token=refresh_token)

    async def revoke(self, token: str) -> None:
        raise NotSupported(
            "Pinterest has no token revocation; remove the app in Pinterest's settings", platform=PLATFORM
        )

    async def get_account(self, access_token: str) -> PlatformAccount:
        account = await self._user_account(access_token)
        return PlatformAccount(id=account.id or account.username, name=account.username)

    async def publishable_accounts(self, tokens: TokenSet) -> list[ConnectableAccount]:
        token = tokens.access_token.get_secret_value()
        user = await self._user_account(token)
        boards: list[_Board] = []
        bookmark: str | None = None
        while len(boards) < MAX_BOARDS:
            params = {"page_size": "250"} | ({"bookmark": bookmark} if bookmark else {})
            response = await self._http.request(
                "GET", f"{API_URL}/boards", params=params, headers=bearer(token)
            )
            page = self._http.parse(response, _Boards)
            boards.extend(page.items)
            if not page.bookmark:
                break
            bookmark = page.bookmark
        return [
            ConnectableAccount(
                account=PlatformAccount(id=board.id, name=f"{user.username} / {board.name}"),
                tokens=tokens.model_copy(update={"account_id": board.id}),
            )
            for board in boards
        ]

    async def publish(self, access_token: str, request: PublishRequest) -> PublishedPost:
        # The connection is a board; options["board_id"] pins to another board of the same login.
        board_id = request.options.get("board_id") or request.account_id
        if not board_id:
            raise Rejected("a Pin needs a board: connect the board to post to", platform=PLATFORM)
        pin: dict[str, Any] = {"board_id": board_id, "description": request.text}
        for field in ("link", "title"):
            if value := request.options.get(field):
                pin[field] = value
        images = [item for item in request.media if item.mime_type.startswith("image/")]
        videos = [item for item in request.media if item.mime_type.startswith("video/")]
        if not request.media:
            raise Rejected("a Pin needs an image or a video", platform=PLATFORM)
        if videos and (images or len(videos) > 1):
            raise Rejected("a Pin carries images or one video, not both", platform=PLATFORM)
        if len(images) > MAX_IMAGES:
            raise Rejected(f"a Pin holds at most {MAX_IMAGES} images", platform=PLATFORM)
        if videos:
            media_id = await self._upload_video(access_token, videos[0])
            pin["media_source"] = {
                "source_type": "video_id",
                "media_id": media_id,
                "cover_image_key_frame_time": 0,
            }
        elif len(images) == 1:
            pin["media_source"] = _image_source(images[0])
            if images[0].alt_text:
                pin["alt_text"] = images[0].alt_text
        else:
            pin["media_source"] = {
                "source_type": "multiple_image_urls",
                "items": [_image_item(i) for i in images],
            }
        response = await self._http.request(
            "POST", f"{API_URL}/pins", creates=True, headers=bearer(access_token), json=pin
        )
        created = self._http.parse(response, _Pin, creates=True)
        return PublishedPost(remote_id=created.id, url=_pin_url(created.id))

    async def get_post_status(self, access_token: str, remote_id: str) -> PostStatus | None:
        pin = await self._pin(access_token, remote_id)
        if pin is None:
            return None
        return PostStatus(remote_id=pin.id, state=PostState.PUBLISHED, url=_pin_url(pin.id))

    async def find_post_by_marker(self, access_token: str, marker: str) -> PublishedPost | None:
        response = await self._http.request(
            "GET",
            f"{API_URL}/pins",
            params={"page_size": str(self._marker_search_depth)},
            headers=bearer(access_token),
        )
        for pin in self._http.parse(response, _Pins).items:  # newest first
            if marker in (pin.description or ""):
                return PublishedPost(remote_id=pin.id, url=_pin_url(pin.id))
        return None

    async def fetch_metrics(self, access_token: str, remote_ids: Sequence[str]) -> list[MetricPoint]:
        today = self._clock().date()
        points: list[MetricPoint] = []
        for remote_id in remote_ids:
            response = await self._http.request(
                "GET",
                f"{API_URL}/pins/{quote(remote_id, safe='')}/analytics",
                params={
                    "start_date": (today - timedelta(days=ANALYTICS_DAYS - 1)).isoformat(),
                    "end_date": today.isoformat(),
                    "metric_types": ",".join(METRICS),
                },
                headers=bearer(access_token),
                tolerate={404},
            )
            if response.status_code == 404:
                continue  # the Pin is gone
            observed_at = datetime.now(UTC)
            summary = _summary_metrics(response.json())
            points.extend(
                MetricPoint(
                    remote_id=remote_id, name=METRICS[name], value=int(value), observed_at=observed_at
                )
                for name, value in summary.items()
                if name in METRICS and isinstance(value, int | float) and value >= 0
            )
        return points

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        raise NotSupported("Pinterest sends no webhooks for a connected account's Pins", platform=PLATFORM)

    async def _token(self, form: dict[str, str], previous_refresh_token: str | None) -> TokenSet:
        response = await self._http.request(
            "POST",
            f"{API_URL}/oauth/token",
            headers={"Authorization": f"Basic {self._basic}", "Accept": "application/json"},
            data=form,
            tolerate={400, 401},
        )
        if response.status_code in (400, 401):
            # Pinterest answers a spent or revoked code or refresh token with 400 or 401: only a
            # new consent helps (a 429 or 5xx stays transient, raised by request() itself).
            raise AuthFailure(
                f"the token request was refused (HTTP {response.status_code})",
                platform=PLATFORM,
                platform_message=response.text[:500],
                status_code=response.status_code,
            )
        answer = self._http.parse(response, _Token)
        refresh_token = answer.refresh_token or previous_refresh_token
        return TokenSet(
            access_token=SecretStr(answer.access_token),
            refresh_token=SecretStr(refresh_token) if refresh_token else None,
            expires_at=self._clock() + timedelta(seconds=answer.expires_in) if answer.expires_in else None,
            scopes=tuple((answer.scope or "").replace(",", " ").split()),
        )

    async def _user_account(self, access_token: str) -> _UserAccount:
        response = await self._http.request("GET", f"{API_URL}/user_account", headers=bearer(access_token))
        return self._http.parse(response, _UserAccount)

    async def _pin(self, access_token: str, pin_id: str) -> _Pin | None:
        response = await self._http.request(
            "GET", f"{API_URL}/pins/{quote(pin_id, safe='')}", headers=bearer(access_token), tolerate={404}
        )
        return None if response.status_code == 404 else self._http.parse(response, _Pin)

    async def _upload_video(self, access_token: str, item: MediaAttachment) -> str:
        response = await self._http.request(
            "POST", f"{API_URL}/media", headers=bearer(access_token), json={"media_type": "video"}
        )
        upload = self._http.parse(response, _MediaUpload)
        # The upload URL is a storage bucket that takes the file as a form POST with the
        # parameters Pinterest signed; our bearer token must not go there.
        headers, body = multipart_body(
            self._http.client,
            item,
            PLATFORM,
            field="file",
            filename="upload",
            fields=upload.upload_parameters,
        )
        await self._http.request("POST", upload.upload_url, headers=headers, content=body)
        for _ in range(self._poll_attempts):
            response = await self._http.request(
                "GET", f"{API_URL}/media/{quote(upload.media_id, safe='')}", headers=bearer(access_token)
            )
            status = self._http.parse(response, _MediaStatus).status
            if status == "succeeded":
                return upload.media_id
            if status == "failed":
                raise Rejected(
                    "Pinterest could not process the video", platform=PLATFORM, platform_message=status
                )
            await self._sleep(self._poll_interval_s)
        raise Retryable(f"video still processing after {self._poll_attempts} checks", platform=PLATFORM)


def _image_source(item: MediaAttachment) -> dict[str, str]:
    if item.url is not None:
        return {"source_type": "image_url", "url": item.url}
    return {
        "source_type": "image_base64",
        "content_type": item.mime_type,
        "data": base64.b64encode(item.content).decode(),
    }


def _image_item(item: MediaAttachment) -> dict[str, str]:
    if item.url is None:
        raise Rejected("a carousel Pin takes images by URL and this one has none", platform=PLATFORM)
    return {"url": item.url}


def _pin_url(pin_id: str) -> str:
    return f"https://www.pinterest.com/pin/{quote(pin_id, safe='')}/"


def _summary_metrics(body: Any) -> dict[str, Any]:
    """{"all": {"summary_metrics": {"IMPRESSION": 10, ...}, "daily_metrics": [...]}}: the
    range's totals; a metric Pinterest did not return stays absent."""
    if not isinstance(body, dict) or not isinstance(body.get("all"), dict):
        return {}
    summary = body["all"].get("summary_metrics")
    return summary if isinstance(summary, dict) else {}
