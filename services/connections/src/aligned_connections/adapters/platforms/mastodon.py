"""Mastodon (any instance): OAuth 2 + PKCE (Mastodon 4.3+), statuses with Idempotency-Key.

Mastodon remembers an Idempotency-Key for an hour, so a retry within the hour returns the first
status. After an unknown outcome we still look first (find_post_by_marker), as everywhere.
Mastodon has no impressions; its engagement counts come with the status itself.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr

from aligned_connections.adapters.platforms.errors import NotSupported, Retryable
from aligned_connections.adapters.platforms.http import DEFAULT_TIMEOUT, PlatformHttp, bearer
from aligned_connections.adapters.platforms.media import multipart_body
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
)
from aligned_connections.adapters.platforms.oauth2 import (
    OAuth2Client,
    OAuth2Methods,
    OAuthClientCredentials,
    OAuthEndpoints,
)

PLATFORM = "mastodon"
MEDIA_PROCESSING = 206  # GET /api/v1/media/:id while a video is still being transcoded


class _Account(BaseModel):
    id: str
    acct: str


class _Media(BaseModel):
    id: str


class _Status(BaseModel):
    id: str
    url: str | None = None
    uri: str
    content: str = ""
    favourites_count: int = 0
    reblogs_count: int = 0
    replies_count: int = 0

    @property
    def public_url(self) -> str:
        return self.url or self.uri


class MastodonAdapter(OAuth2Methods):
    platform = PLATFORM

    def __init__(
        self,
        instance_url: str,
        client_id: str,
        client_secret: str,
        *,
        http_client: httpx.AsyncClient,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        marker_search_depth: int = 40,
        media_poll_interval_s: float = 1.0,
        media_poll_attempts: int = 60,
    ) -> None:
        self._instance_url = instance_url.rstrip("/")
        self._http = PlatformHttp(PLATFORM, http_client, timeout=timeout)
        endpoints = OAuthEndpoints(
            authorize=self._url("/oauth/authorize"),
            token=self._url("/oauth/token"),
            revoke=self._url("/oauth/revoke"),
        )
        self._oauth = OAuth2Client(
            self._http, endpoints, OAuthClientCredentials(client_id, SecretStr(client_secret))
        )
        self._marker_search_depth = marker_search_depth
        self._media_poll_interval_s = media_poll_interval_s
        self._media_poll_attempts = media_poll_attempts

    async def get_account(self, access_token: str) -> PlatformAccount:
        account = await self._verify_credentials(access_token)
        return PlatformAccount(id=account.id, name=account.acct)

    async def publish(self, access_token: str, request: PublishRequest) -> PublishedPost:
        media_ids = [await self._upload(access_token, item) for item in request.media]
        response = await self._http.request(
            "POST",
            self._url("/api/v1/statuses"),
            creates=True,
            headers=bearer(access_token) | {"Idempotency-Key": request.idempotency_key},
            json={"status": request.text, "media_ids": media_ids}
            | ({"in_reply_to_id": request.reply_to.parent_remote_id} if request.reply_to else {}),
        )
        status = self._http.parse(response, _Status, creates=True)
        return PublishedPost(remote_id=status.id, url=status.public_url)

    async def get_post_status(self, access_token: str, remote_id: str) -> PostStatus | None:
        status = await self._status(access_token, remote_id)
        # Mastodon answers 404 for a deleted status too, so "deleted" cannot be told from "never made".
        if status is None:
            return None
        return PostStatus(remote_id=status.id, state=PostState.PUBLISHED, url=status.public_url)

    async def find_post_by_marker(self, access_token: str, marker: str) -> PublishedPost | None:
        account = await self._verify_credentials(access_token)
        response = await self._http.request(
            "GET",
            self._url(f"/api/v1/accounts/{quote(account.id, safe='')}/statuses"),
            headers=bearer(access_token),
            params={"limit": self._marker_search_depth},
        )
        for status in self._http.parse_list(response, _Status):  # newest first
            if marker in plain_text(status.content):
                return PublishedPost(remote_id=status.id, url=status.public_url)
        return None

    async def fetch_metrics(self, access_token: str, remote_ids: Sequence[str]) -> list[MetricPoint]:
        points: list[MetricPoint] = []
        for remote_id in remote_ids:
            status = await self._status(access_token, remote_id)
            if status is not None:
                points.extend(_metric_points(status, observed_at=datetime.now(UTC)))
        return points

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        raise NotSupported(
            "Mastodon sends webhooks to instance admins only, not for a connected account", platform=PLATFORM
        )

    async def _verify_credentials(self, access_token: str) -> _Account:
        response = await self._http.request(
            "GET", self._url("/api/v1/accounts/verify_credentials"), headers=bearer(access_token)
        )
        return self._http.parse(response, _Account)

    async def _status(self, access_token: str, remote_id: str) -> _Status | None:
        response = await self._http.request(
            "GET",
            self._url(f"/api/v1/statuses/{quote(remote_id, safe='')}"),
            headers=bearer(access_token),
            tolerate={404},
        )
        return None if response.status_code == 404 else self._http.parse(response, _Status)

    async def _upload(self, access_token: str, item: MediaAttachment) -> str:
        headers, body = multipart_body(
            self._http.client,
            item,
            PLATFORM,
            field="file",
            filename="upload",
            fields={"description": item.alt_text},
        )
        response = await self._http.request(
            "POST", self._url("/api/v2/media"), headers=bearer(access_token) | headers, content=body
        )
        media = self._http.parse(response, _Media)
        if response.status_code == 202:  # accepted, still processing: a status cannot use it yet
            await self._wait_until_processed(access_token, media.id)
        return media.id

    async def _wait_until_processed(self, access_token: str, media_id: str) -> None:
        for _ in range(self._media_poll_attempts):
            await asyncio.sleep(self._media_poll_interval_s)
            response = await self._http.request(
                "GET", self._url(f"/api/v1/media/{quote(media_id, safe='')}"), headers=bearer(access_token)
            )
            if response.status_code != MEDIA_PROCESSING:
                return
        raise Retryable(
            f"media {media_id} still processing after {self._media_poll_attempts} checks", platform=PLATFORM
        )

    def _url(self, path: str) -> str:
        return self._instance_url + path


_BREAK = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def plain_text(status_html: str) -> str:
    """The text of a status as its author typed it (Mastodon returns sanitised HTML)."""
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", status_html)))


def _metric_points(status: _Status, observed_at: datetime) -> list[MetricPoint]:
    values = {
        MetricName.LIKES: status.favourites_count,
        MetricName.SHARES: status.reblogs_count,
        MetricName.COMMENTS: status.replies_count,
    }
    return [
        MetricPoint(remote_id=status.id, name=name, value=value, observed_at=observed_at)
        for name, value in values.items()
    ]
