"""Threads over the Threads API, v1.0 (graph.threads.net).

Reference: https://developers.facebook.com/docs/threads (get-started/get-access-tokens-and-permissions,
get-started/long-lived-tokens, posts, posts/carousel, reply-management, insights,
troubleshooting/publishing-limits); error bodies and rate-limit headers are Graph's (graph.py).

Connecting: the authorization window at threads.net/oauth/authorize (threads_basic,
threads_content_publish, threads_manage_insights; Threads documents no PKCE, so the challenge is
not sent), the code exchanged at POST /oauth/access_token for a short-lived token (1 h) and at
once for a long-lived one (GET /access_token, th_exchange_token, 60 days). A long-lived token
refreshes itself (GET /refresh_access_token, th_refresh_token) for another 60 days while it is
valid and at least a day old, so it is kept as the connection's refresh token too and the refresh
loop renews it ahead of expiry. Threads has no revocation endpoint: revoke() is NotSupported and
the person removes the app in their Threads settings.

Publishing is two steps: POST /me/threads makes a media container (TEXT, IMAGE, VIDEO, or a
CAROUSEL of 2-20 item containers {is_carousel_item}); media are fetched by Threads from their URL
(our presigned store URL, which must be reachable from the internet); we poll GET
/{container}?fields=status,error_message until FINISHED; POST /me/threads_publish {creation_id}
is the one write that makes a post. `options["reply_control"]`: everyone (default),
accounts_you_follow, mentioned_only, parent_post_author_only, followers_only. Alt text is sent
for images and videos (`alt_text`). At the publishing limit (250 posts a rolling 24 h, GET
/me/threads_publishing_limit) the attempt waits as a rate limit.

No duplicate posts: after an unknown outcome the account's recent threads (/me/threads, newest
first) are searched for the text before anything is sent again.

Metrics (/{media}/insights): views (impressions), likes, replies (comments), reposts (shares),
quotes. Threads gives no reach and no saves: absent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import httpx
from pydantic import BaseModel, SecretStr

from aligned_connections.adapters.platforms.errors import NotSupported, Rejected, Retryable
from aligned_connections.adapters.platforms.graph import (
    GraphHttp,
    check_publishing_quota,
    get_node,
    insight_values,
    meta_scopes,
    wait_for_container,
)
from aligned_connections.adapters.platforms.http import DEFAULT_TIMEOUT, bearer
from aligned_connections.adapters.platforms.models import (
    AuthorizationCode,
    AuthorizationGrant,
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

PLATFORM = "threads"
THREADS_URL = "https://graph.threads.net"
API_URL = f"{THREADS_URL}/v1.0"
AUTHORIZE_URL = "https://threads.net/oauth/authorize"
SCOPES = ("threads_basic", "threads_content_publish", "threads_manage_insights")
CAROUSEL_MAX = 20
REPLY_CONTROLS = frozenset(
    {"everyone", "accounts_you_follow", "mentioned_only", "parent_post_author_only", "followers_only"}
)
INSIGHTS = {
    "views": MetricName.IMPRESSIONS,
    "likes": MetricName.LIKES,
    "replies": MetricName.COMMENTS,
    "reposts": MetricName.SHARES,
    "quotes": MetricName.QUOTES,
}


class _ShortToken(BaseModel):
    access_token: str
    user_id: int | str | None = None


class _LongToken(BaseModel):
    access_token: str
    expires_in: float | None = None


class _Me(BaseModel):
    id: str
    username: str


class _Created(BaseModel):
    id: str


class _Thread(BaseModel):
    id: str
    text: str = ""
    permalink: str | None = None


class _Threads(BaseModel):
    data: list[_Thread]


class ThreadsAdapter:
    platform = PLATFORM

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        http_client: httpx.AsyncClient,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        marker_search_depth: int = 25,
        container_poll_interval_s: float = 3.0,
        container_poll_attempts: int = 40,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._http = GraphHttp(PLATFORM, http_client, timeout=timeout)
        self._client_id = client_id
        self._client_secret = SecretStr(client_secret)
        self._marker_search_depth = marker_search_depth
        self._poll_interval_s = container_poll_interval_s
        self._poll_attempts = container_poll_attempts
        self._sleep = sleep
        self._clock = clock

    async def authorize_url(
        self, state: str, code_challenge: str, redirect_uri: str, scopes: Sequence[str]
    ) -> str:
        query = urlencode(
            {
                "client_id": self._client_id,
                "redirect_uri": redirect_uri,
                "scope": ",".join(meta_scopes(scopes, SCOPES)),
                "response_type": "code",
                "state": state,
            }
        )
        return f"{AUTHORIZE_URL}?{query}"

    async def exchange_code(self, grant: AuthorizationGrant) -> TokenSet:
        if not isinstance(grant, AuthorizationCode):
            raise NotSupported("Threads connects with OAuth, not an app password", platform=PLATFORM)
        response = await self._http.request(
            "POST",
            f"{THREADS_URL}/oauth/access_token",
            data={
                "client_id": self._client_id,
                "client_secret": self._client_secret.get_secret_value(),
                "grant_type": "authorization_code",
                "redirect_uri": grant.redirect_uri,
                "code": grant.code,
            },
        )
        short = self._http.parse(response, _ShortToken)
        response = await self._http.request(
            "GET",
            f"{THREADS_URL}/access_token",
            params={
                "grant_type": "th_exchange_token",
                "client_secret": self._client_secret.get_secret_value(),
            },
            headers=bearer(short.access_token),
        )
        tokens = self._long_lived(self._http.parse(response, _LongToken))
        return tokens.model_copy(update={"account_id": str(short.user_id) if short.user_id else None})

    async def refresh(self, refresh_token: str) -> TokenSet:
        response = await self._http.request(
            "GET",
            f"{THREADS_URL}/refresh_access_token",
            params={"grant_type": "th_refresh_token"},
            headers=bearer(refresh_token),
        )
        return self._long_lived(self._http.parse(response, _LongToken))

    async def revoke(self, token: str) -> None:
        raise NotSupported(
            "Threads has no token revocation; remove the app in Threads' settings", platform=PLATFORM
        )

    async def get_account(self, access_token: str) -> PlatformAccount:
        response = await self._http.request(
            "GET", f"{API_URL}/me", params={"fields": "id,username"}, headers=bearer(access_token)
        )
        me = self._http.parse(response, _Me)
        return PlatformAccount(id=me.id, name=me.username)

    async def publish(self, access_token: str, request: PublishRequest) -> PublishedPost:
        if len(request.media) > CAROUSEL_MAX:
            raise Rejected(f"a carousel holds at most {CAROUSEL_MAX} items", platform=PLATFORM)
        reply_control = request.options.get("reply_control", "everyone")
        if reply_control not in REPLY_CONTROLS:
            raise Rejected(
                f"reply_control must be one of {sorted(REPLY_CONTROLS)}, not {reply_control!r}",
                platform=PLATFORM,
            )
        await check_publishing_quota(self._http, f"{API_URL}/me/threads_publishing_limit", access_token)
        post: dict[str, str] = {"text": request.text, "reply_control": reply_control}
        if not request.media:
            container = await self._create(access_token, post | {"media_type": "TEXT"})
        elif len(request.media) == 1:
            container = await self._create(access_token, post | _media_fields(request.media[0]))
        else:
            children = []
            for item in request.media:
                child = await self._create(access_token, _media_fields(item) | {"is_carousel_item": "true"})
                await self._wait(access_token, child)
                children.append(child)
            container = await self._create(
                access_token, post | {"media_type": "CAROUSEL", "children": ",".join(children)}
            )
        await self._wait(access_token, container)
        response = await self._http.request(
            "POST",
            f"{API_URL}/me/threads_publish",
            creates=True,
            headers=bearer(access_token),
            data={"creation_id": container},
        )
        thread_id = self._http.parse(response, _Created, creates=True).id
        try:
            thread = await self._thread(access_token, thread_id)
        except Retryable:
            thread = None  # the post exists; only its link is missing
        return PublishedPost(remote_id=thread_id, url=thread.permalink if thread else None)

    async def get_post_status(self, access_token: str, remote_id: str) -> PostStatus | None:
        thread = await self._thread(access_token, remote_id)
        if thread is None:
            return None
        return PostStatus(remote_id=thread.id, state=PostState.PUBLISHED, url=thread.permalink)

    async def find_post_by_marker(self, access_token: str, marker: str) -> PublishedPost | None:
        response = await self._http.request(
            "GET",
            f"{API_URL}/me/threads",
            params={"fields": "id,text,permalink", "limit": str(self._marker_search_depth)},
            headers=bearer(access_token),
        )
        for thread in self._http.parse(response, _Threads).data:  # newest first
            if marker in thread.text:
                return PublishedPost(remote_id=thread.id, url=thread.permalink)
        return None

    async def fetch_metrics(self, access_token: str, remote_ids: Sequence[str]) -> list[MetricPoint]:
        points: list[MetricPoint] = []
        for remote_id in remote_ids:
            if await self._thread(access_token, remote_id) is None:
                continue
            response = await self._http.request(
                "GET",
                f"{API_URL}/{quote(remote_id, safe='')}/insights",
                params={"metric": ",".join(INSIGHTS)},
                headers=bearer(access_token),
            )
            observed_at = datetime.now(UTC)
            points.extend(
                MetricPoint(remote_id=remote_id, name=INSIGHTS[name], value=value, observed_at=observed_at)
                for name, value in insight_values(self._http, response).items()
                if name in INSIGHTS
            )
        return points

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        raise NotSupported("Meta's webhooks arrive at the webhooks service", platform=PLATFORM)

    def _long_lived(self, token: _LongToken) -> TokenSet:
        # The long-lived token is its own refresh token (th_refresh_token takes it).
        return TokenSet(
            access_token=SecretStr(token.access_token),
            refresh_token=SecretStr(token.access_token),
            expires_at=self._clock() + timedelta(seconds=token.expires_in) if token.expires_in else None,
            scopes=SCOPES,
        )

    async def _create(self, access_token: str, form: dict[str, str]) -> str:
        # A container is not a post: a lost answer leaves at most one that expires unpublished.
        response = await self._http.request(
            "POST", f"{API_URL}/me/threads", headers=bearer(access_token), data=form
        )
        return self._http.parse(response, _Created).id

    async def _wait(self, access_token: str, container: str) -> None:
        await wait_for_container(
            self._http,
            f"{API_URL}/{quote(container, safe='')}",
            access_token,
            fields="status,error_message",
            attempts=self._poll_attempts,
            interval_s=self._poll_interval_s,
            sleep=self._sleep,
        )

    async def _thread(self, access_token: str, thread_id: str) -> _Thread | None:
        return await get_node(self._http, access_token, thread_id, "id,text,permalink", _Thread, base=API_URL)


def _media_fields(item: MediaAttachment) -> dict[str, str]:
    if item.url is None:
        raise Rejected("Threads fetches media by URL and this item has none", platform=PLATFORM)
    video = item.mime_type.startswith("video/")
    fields = (
        {"media_type": "VIDEO", "video_url": item.url}
        if video
        else {"media_type": "IMAGE", "image_url": item.url}
    )
    if item.alt_text:
        fields["alt_text"] = item.alt_text
    return fields
