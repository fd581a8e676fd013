"""The sandbox platform (services/sandbox): OAuth 2 + PKCE, Idempotency-Key on publish, signed
Standard Webhooks. The reference adapter: every behaviour here is exercised end to end.

Per-platform fields (`request.options`): `visibility` (public, unlisted, private) and `sensitive`
("true"/"false"), sent as the post's own fields; the sandbox keeps and shows them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field, ValidationError

from aligned_common.events.engagement import PlatformItem
from aligned_common.platforms import MalformedWebhook, standard_webhooks
from aligned_connections.adapters.platforms.engagement import PostedReply, ReplyRequest
from aligned_connections.adapters.platforms.http import DEFAULT_TIMEOUT, PlatformHttp, bearer
from aligned_connections.adapters.platforms.media import raw_body
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

PLATFORM = "sandbox"


class _Account(BaseModel):
    id: str
    name: str


class _Media(BaseModel):
    id: str


class _Post(BaseModel):
    id: str
    url: str
    text: str
    status: PostState


class _PostList(BaseModel):
    posts: list[_Post]


class _PostMetrics(BaseModel):
    observed_at: datetime
    impressions: int
    likes: int
    shares: int
    comments: int


class _ItemList(BaseModel):
    items: list[PlatformItem]


class _PostedItem(BaseModel):
    platform_item_id: str


class _WebhookPayload(BaseModel):
    type: str
    timestamp: datetime | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class SandboxAdapter(OAuth2Methods):
    platform = PLATFORM

    def __init__(
        self,
        base_url: str,
        client_id: str,
        *,
        http_client: httpx.AsyncClient,
        webhook_secrets: Sequence[str] = (),
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        marker_search_depth: int = 50,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._http = PlatformHttp(PLATFORM, http_client, timeout=timeout)
        endpoints = OAuthEndpoints(
            authorize=self._url("/oauth/authorize"),
            token=self._url("/oauth/token"),
            revoke=self._url("/oauth/revoke"),
        )
        self._oauth = OAuth2Client(self._http, endpoints, OAuthClientCredentials(client_id))
        self._webhook_secrets = tuple(webhook_secrets)
        self._marker_search_depth = marker_search_depth

    async def get_account(self, access_token: str) -> PlatformAccount:
        response = await self._http.request("GET", self._url("/api/v1/me"), headers=bearer(access_token))
        account = self._http.parse(response, _Account)
        return PlatformAccount(id=account.id, name=account.name)

    async def publish(self, access_token: str, request: PublishRequest) -> PublishedPost:
        media_ids = [await self._upload(access_token, item) for item in request.media]
        response = await self._http.request(
            "POST",
            self._url("/api/v1/posts"),
            creates=True,
            headers=bearer(access_token) | {"Idempotency-Key": request.idempotency_key},
            json={"text": request.text, "media_ids": media_ids}
            | _options_body(request.options)
            | ({"in_reply_to_id": request.reply_to.parent_remote_id} if request.reply_to else {}),
        )
        post = self._http.parse(response, _Post, creates=True)
        return PublishedPost(remote_id=post.id, url=post.url)

    async def _upload(self, access_token: str, item: MediaAttachment) -> str:
        # Not `creates`: a repeated upload leaves an unused file behind, never a second post.
        # The bytes stream from the object store into the request (media.py).
        headers, body = raw_body(self._http.client, item, PLATFORM)
        response = await self._http.request(
            "POST",
            self._url("/api/v1/media"),
            content=body,
            headers=bearer(access_token) | headers,
            params={"description": item.alt_text} if item.alt_text else None,
        )
        return self._http.parse(response, _Media).id

    async def get_post_status(self, access_token: str, remote_id: str) -> PostStatus | None:
        response = await self._http.request(
            "GET",
            self._url(f"/api/v1/posts/{quote(remote_id, safe='')}"),
            headers=bearer(access_token),
            tolerate={404},
        )
        if response.status_code == 404:
            return None
        post = self._http.parse(response, _Post)
        return PostStatus(remote_id=post.id, state=post.status, url=post.url)

    async def find_post_by_marker(self, access_token: str, marker: str) -> PublishedPost | None:
        response = await self._http.request(
            "GET",
            self._url("/api/v1/posts"),
            headers=bearer(access_token),
            params={"limit": self._marker_search_depth},
        )
        for post in self._http.parse(response, _PostList).posts:  # newest first
            if marker in post.text:
                return PublishedPost(remote_id=post.id, url=post.url)
        return None

    async def fetch_metrics(self, access_token: str, remote_ids: Sequence[str]) -> list[MetricPoint]:
        points: list[MetricPoint] = []
        for remote_id in remote_ids:
            response = await self._http.request(
                "GET",
                self._url(f"/api/v1/posts/{quote(remote_id, safe='')}/metrics"),
                headers=bearer(access_token),
                tolerate={404},
            )
            if response.status_code != 404:
                points.extend(_metric_points(remote_id, self._http.parse(response, _PostMetrics)))
        return points

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Raises the catalogue's InvalidSignature, StaleTimestamp or MalformedWebhook."""
        verified = standard_webhooks.verify(headers, body, self._webhook_secrets)
        try:
            payload = _WebhookPayload.model_validate_json(body)
        except ValidationError as error:
            raise MalformedWebhook(
                f"signed, but not a sandbox event: {error.error_count()} problem(s)"
            ) from error
        return WebhookEvent(
            platform=PLATFORM,
            id=verified.webhook_id,
            type=payload.type,
            occurred_at=payload.timestamp,
            data=payload.data,
        )

    def _url(self, path: str) -> str:
        return self._base_url + path

    # -- engagement (adapters/platforms/engagement.py's EngagementSource) --------------------
    async def fetch_engagement(self, access_token: str) -> list[PlatformItem]:
        items: list[PlatformItem] = []
        for path in ("/api/v1/comments", "/api/v1/reviews"):
            response = await self._http.request("GET", self._url(path), headers=bearer(access_token))
            items.extend(self._http.parse(response, _ItemList).items)
        return items

    async def reply(self, access_token: str, request: ReplyRequest) -> PostedReply:
        if request.kind == "review":
            path, body = (
                f"/api/v1/reviews/{quote(request.in_reply_to_id, safe='')}/reply",
                {"text": request.text},
            )
        else:
            path = f"/api/v1/posts/{quote(request.remote_post_id or '', safe='')}/comments"
            body = {"text": request.text, "in_reply_to_id": request.in_reply_to_id}
        response = await self._http.request(
            "POST",
            self._url(path),
            json=body,
            headers=bearer(access_token) | {"Idempotency-Key": request.idempotency_key},
        )
        posted = self._http.parse(response, _PostedItem, creates=True)
        return PostedReply(remote_id=posted.platform_item_id)


def _options_body(options: Mapping[str, str]) -> dict[str, object]:
    """The sandbox's per-platform fields (the catalogue's `visibility`, `sensitive`) as its API takes them."""
    body: dict[str, object] = {}
    if visibility := options.get("visibility"):
        body["visibility"] = visibility
    if "sensitive" in options:
        body["sensitive"] = options["sensitive"].lower() == "true"
    return body


def _metric_points(remote_id: str, metrics: _PostMetrics) -> list[MetricPoint]:
    values = {
        MetricName.IMPRESSIONS: metrics.impressions,
        MetricName.LIKES: metrics.likes,
        MetricName.SHARES: metrics.shares,
        MetricName.COMMENTS: metrics.comments,
    }
    return [
        MetricPoint(remote_id=remote_id, name=name, value=value, observed_at=metrics.observed_at)
        for name, value in values.items()
    ]
