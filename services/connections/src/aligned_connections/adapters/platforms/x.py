"""X (API v2): OAuth 2.0 authorization code with PKCE, POST /2/tweets, media upload v2 (chunked).

References (X API v2, as of 2025):
- OAuth 2.0 with PKCE: https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code
  (a confidential client sends its credentials in an Authorization: Basic header; access tokens
  last 2 hours, a refresh token comes with the offline.access scope)
- Posts: https://docs.x.com/x-api/posts/creation-of-a-post (POST /2/tweets, 201 {data: {id, text}})
- Media: https://docs.x.com/x-api/media/quickstart/media-upload-chunked (initialize, append,
  finalize, then STATUS while processing_info says pending or in_progress) and
  POST /2/media/metadata for alt text
- Rate limits: https://docs.x.com/x-api/fundamentals/rate-limits (x-rate-limit-limit, -remaining,
  -reset in epoch seconds, and x-user-limit-24hour-* for posts a day; 429 Too Many Requests).
  A post whose answer says a window is spent tells the account's bucket to wait for its reset.
- Errors: https://docs.x.com/x-api/fundamentals/response-codes-and-errors (RFC 7807 problems)

Never a duplicate: X has no idempotency key. After an unknown outcome the account's recent posts
are read (GET /2/users/:id/tweets) and the one whose text matches ours, links aside (X rewrites
every link to t.co), is the post; publish is never called again before that. X itself also
refuses a second post with the same text (403 "duplicate content"), which we map to Rejected.

Per-platform fields (`request.options`): `reply_settings` (POST /2/tweets: following,
mentionedUsers, subscribers or verified; without it everyone may reply). Metrics: public_metrics (impressions, likes, reposts, replies,
quotes, bookmarks); X gives no reach, so it is absent.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr

from aligned_common.platforms.text_length import without_twitter_urls
from aligned_connections.adapters.platforms.errors import NotSupported, PlatformError, Rejected, Retryable
from aligned_connections.adapters.platforms.http import (
    DEFAULT_AUTH_ERROR_CODES,
    DEFAULT_TIMEOUT,
    PlatformHttp,
    bearer,
    error_details,
    retry_after_s,
    spent_for_s,
)
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

PLATFORM = "x"
API = "https://api.x.com"
SEGMENT_BYTES = 4 * 1024 * 1024  # an APPEND segment; X takes up to 5 MB each
SCOPES = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")


class _User(BaseModel):
    id: str
    username: str


class _UserAnswer(BaseModel):
    data: _User


class _PublicMetrics(BaseModel):
    retweet_count: int = 0
    reply_count: int = 0
    like_count: int = 0
    quote_count: int = 0
    bookmark_count: int | None = None
    impression_count: int | None = None


class _Tweet(BaseModel):
    id: str
    text: str = ""
    public_metrics: _PublicMetrics | None = None


class _TweetAnswer(BaseModel):
    data: _Tweet | None = None  # absent, with `errors`, when the post does not exist


class _Tweets(BaseModel):
    data: list[_Tweet] = []  # absent when there are none


class _ProcessingInfo(BaseModel):
    state: str  # pending, in_progress, succeeded, failed
    check_after_secs: float | None = None
    error: dict[str, object] | None = None


class _Media(BaseModel):
    id: str
    processing_info: _ProcessingInfo | None = None


class _MediaAnswer(BaseModel):
    data: _Media


def _classify(response: httpx.Response) -> PlatformError | None:
    """A 429 waits for the longest spent window: the 24-hour post limit outlasts the 15-minute one
    that x-rate-limit-reset names."""
    if response.status_code != 429:
        return None
    _, message = error_details(response)
    return Retryable(
        "X's rate limit",
        platform=PLATFORM,
        platform_message=message,
        status_code=429,
        retry_after=spent_for_s(response) or retry_after_s(response),
    )


class XAdapter(OAuth2Methods):
    platform = PLATFORM
    default_scopes = SCOPES

    def __init__(
        self,
        client_id: str,
        client_secret: str | None,
        *,
        http_client: httpx.AsyncClient,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        api_url: str = API,
        authorize_url: str = "https://x.com/i/oauth2/authorize",
        marker_search_depth: int = 50,
        media_poll_attempts: int = 60,
        max_poll_wait_s: float = 10.0,
    ) -> None:
        self._api = api_url.rstrip("/")
        # X's token endpoint says invalid_request for a refresh token it no longer knows.
        self._http = PlatformHttp(
            PLATFORM,
            http_client,
            timeout=timeout,
            auth_error_codes=DEFAULT_AUTH_ERROR_CODES | {"invalid_request"},
            classify=_classify,
        )
        endpoints = OAuthEndpoints(
            authorize=authorize_url,
            token=f"{self._api}/2/oauth2/token",
            revoke=f"{self._api}/2/oauth2/revoke",
        )
        secret = SecretStr(client_secret) if client_secret else None
        self._oauth = OAuth2Client(
            self._http,
            endpoints,
            OAuthClientCredentials(client_id, secret),
            dialect=OAuthDialect(basic_auth=secret is not None),
        )
        self._marker_search_depth = marker_search_depth
        self._media_poll_attempts = media_poll_attempts
        self._max_poll_wait_s = max_poll_wait_s

    async def get_account(self, access_token: str) -> PlatformAccount:
        user = await self._me(access_token)
        return PlatformAccount(id=user.id, name=f"@{user.username}")

    async def publish(self, access_token: str, request: PublishRequest) -> PublishedPost:
        media_ids = [await self._upload(access_token, item) for item in request.media]
        # X takes a post of media alone, but refuses an empty text field.
        body: dict[str, object] = {"text": request.text} if request.text else {}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        if reply_settings := request.options.get("reply_settings"):
            body["reply_settings"] = reply_settings  # who may reply; without it, everyone
        response = await self._http.request(
            "POST", f"{self._api}/2/tweets", creates=True, headers=bearer(access_token), json=body
        )
        tweet = self._http.parse(response, _TweetAnswer, creates=True).data
        if tweet is None:
            raise Rejected(
                "X answered without a post", platform=PLATFORM, platform_message=response.text[:500]
            )
        return PublishedPost(
            remote_id=tweet.id, url=_url_of(tweet.id), rate_limited_for_s=spent_for_s(response)
        )

    async def get_post_status(self, access_token: str, remote_id: str) -> PostStatus | None:
        response = await self._http.request(
            "GET",
            f"{self._api}/2/tweets/{quote(remote_id, safe='')}",
            headers=bearer(access_token),
            tolerate={404},
        )
        # A post that does not exist is a 200 with only `errors` (resource-not-found) on X.
        tweet = None if response.status_code == 404 else self._http.parse(response, _TweetAnswer).data
        if tweet is None:
            return None
        return PostStatus(remote_id=tweet.id, state=PostState.PUBLISHED, url=_url_of(tweet.id))

    async def find_post_by_marker(self, access_token: str, marker: str) -> PublishedPost | None:
        user = await self._me(access_token)
        response = await self._http.request(
            "GET",
            f"{self._api}/2/users/{quote(user.id, safe='')}/tweets",
            headers=bearer(access_token),
            params={"max_results": self._marker_search_depth, "exclude": "replies,retweets"},
        )
        wanted = _comparable(marker)
        for tweet in self._http.parse(response, _Tweets).data:  # newest first
            if wanted and wanted in _comparable(html.unescape(tweet.text)):
                return PublishedPost(remote_id=tweet.id, url=_url_of(tweet.id))
        return None

    async def fetch_metrics(self, access_token: str, remote_ids: Sequence[str]) -> list[MetricPoint]:
        points: list[MetricPoint] = []
        for start in range(0, len(remote_ids), 100):  # GET /2/tweets takes up to 100 ids
            response = await self._http.request(
                "GET",
                f"{self._api}/2/tweets",
                headers=bearer(access_token),
                params={"ids": ",".join(remote_ids[start : start + 100]), "tweet.fields": "public_metrics"},
            )
            observed_at = datetime.now(UTC)
            # Deleted posts come back in `errors`, not in `data`: they are left out.
            for tweet in self._http.parse(response, _Tweets).data:
                points.extend(_metric_points(tweet, observed_at))
        return points

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        raise NotSupported("X's Account Activity webhooks are not supported", platform=PLATFORM)

    async def _me(self, access_token: str) -> _User:
        response = await self._http.request("GET", f"{self._api}/2/users/me", headers=bearer(access_token))
        return self._http.parse(response, _UserAnswer).data

    async def _upload(self, access_token: str, item: MediaAttachment) -> str:
        category = _media_category(item.mime_type)
        response = await self._http.request(
            "POST",
            f"{self._api}/2/media/upload/initialize",
            headers=bearer(access_token),
            json={"media_type": item.mime_type, "total_bytes": size_of(item), "media_category": category},
        )
        media_id = self._http.parse(response, _MediaAnswer).data.id
        index = 0
        async for segment in _segments(media_chunks(self._http.client, item, PLATFORM)):
            await self._http.request(
                "POST",
                f"{self._api}/2/media/upload/{quote(media_id, safe='')}/append",
                headers=bearer(access_token),
                data={"segment_index": str(index)},
                files={"media": ("segment", segment, "application/octet-stream")},
            )
            index += 1
        response = await self._http.request(
            "POST",
            f"{self._api}/2/media/upload/{quote(media_id, safe='')}/finalize",
            headers=bearer(access_token),
        )
        await self._wait_until_processed(access_token, self._http.parse(response, _MediaAnswer).data)
        if item.alt_text:
            await self._http.request(
                "POST",
                f"{self._api}/2/media/metadata",
                headers=bearer(access_token),
                json={"id": media_id, "metadata": {"alt_text": {"text": item.alt_text}}},
            )
        return media_id

    async def _wait_until_processed(self, access_token: str, media: _Media) -> None:
        """Videos and GIFs are processed after finalize: a post may name them once succeeded."""
        info = media.processing_info
        for _ in range(self._media_poll_attempts):
            if info is None or info.state == "succeeded":
                return
            if info.state == "failed":
                raise Rejected(
                    "X could not process the media", platform=PLATFORM, platform_message=str(info.error or "")
                )
            await asyncio.sleep(min(info.check_after_secs or 1.0, self._max_poll_wait_s))
            response = await self._http.request(
                "GET",
                f"{self._api}/2/media/upload",
                headers=bearer(access_token),
                params={"command": "STATUS", "media_id": media.id},
            )
            info = self._http.parse(response, _MediaAnswer).data.processing_info
        raise Retryable(
            f"media {media.id} still processing after {self._media_poll_attempts} checks", platform=PLATFORM
        )


def _media_category(mime_type: str) -> str:
    if mime_type == "image/gif":
        return "tweet_gif"
    return "tweet_video" if mime_type.startswith("video/") else "tweet_image"


async def _segments(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    buffer = bytearray()
    async for chunk in chunks:
        buffer.extend(chunk)
        while len(buffer) >= SEGMENT_BYTES:
            yield bytes(buffer[:SEGMENT_BYTES])
            del buffer[:SEGMENT_BYTES]
    if buffer:
        yield bytes(buffer)


def _comparable(text: str) -> str:
    """Text as X shows it back, links aside: links become t.co URLs, whitespace may change."""
    return " ".join(without_twitter_urls(text).split())


def _url_of(tweet_id: str) -> str:
    return f"https://x.com/i/web/status/{tweet_id}"


def _metric_points(tweet: _Tweet, observed_at: datetime) -> list[MetricPoint]:
    metrics = tweet.public_metrics
    if metrics is None:
        return []
    values: dict[MetricName, int | None] = {
        MetricName.IMPRESSIONS: metrics.impression_count,
        MetricName.LIKES: metrics.like_count,
        MetricName.SHARES: metrics.retweet_count,
        MetricName.COMMENTS: metrics.reply_count,
        MetricName.QUOTES: metrics.quote_count,
        MetricName.SAVES: metrics.bookmark_count,
    }
    return metric_points(tweet.id, values, observed_at)
