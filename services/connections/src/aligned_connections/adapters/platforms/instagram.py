"""Instagram professional accounts over the Instagram Graph API with Facebook Login, v21.0.

Reference: https://developers.facebook.com/docs/instagram-platform/content-publishing (media
containers, carousels, reels, container status, content_publishing_limit),
https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/insights;
errors and rate limits in graph.py.

Connecting (graph.FacebookLogin): Facebook Login with instagram_basic,
instagram_content_publish, instagram_manage_insights, pages_show_list and
pages_read_engagement. Every page the person chose that has an Instagram professional account
linked (/me/accounts ... instagram_business_account) becomes a connection to that Instagram
account, holding the page's token, which does not expire (refresh() is NotSupported).

Publishing is asynchronous: Instagram fetches each media item from its URL (the presigned GET
URL on our object store, which must be reachable from the internet), so:
1. GET /{ig-user}/content_publishing_limit: at the quota (100 posts a rolling 24 h, carousels
   count one), Retryable as a rate limit instead of a refused call;
2. POST /{ig-user}/media: one container {image_url, alt_text} or {media_type=REELS, video_url};
   for a carousel (2-10 items) one per item {is_carousel_item=true}, then the carousel's
   {media_type=CAROUSEL, children}; the caption goes on the post's container;
3. GET /{container}?fields=status_code until FINISHED (ERROR: Rejected; still IN_PROGRESS:
   Retryable, nothing published);
4. POST /{ig-user}/media_publish {creation_id}: the one write that makes a post.
`options["media_type"]` picks REELS (the default for a video, shown in feed and Reels) or
STORIES; Instagram has no text-only posts.

No duplicate posts: after an unknown outcome the account's recent media (/{ig-user}/media,
newest first) are searched for the caption before anything is sent again (and Instagram refuses
to publish one container twice).

Metrics (/{media}/insights): reach, likes, comments, shares, saved (saves) and views (impressions
for images, video views for reels). Instagram gives no quotes: absent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr

from aligned_connections.adapters.platforms.errors import NotSupported, Rejected, Retryable
from aligned_connections.adapters.platforms.graph import (
    GRAPH_URL,
    FacebookLogin,
    GraphHttp,
    check_publishing_quota,
    get_node,
    insight_values,
    managed_pages,
    meta_scopes,
    wait_for_container,
)
from aligned_connections.adapters.platforms.http import DEFAULT_TIMEOUT, bearer
from aligned_connections.adapters.platforms.models import (
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

PLATFORM = "instagram"
SCOPES = (
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_insights",
    "pages_show_list",
    "pages_read_engagement",
)
CAROUSEL_MAX = 10
VIDEO_TYPES = frozenset({"REELS", "STORIES"})
INSIGHTS = {
    "reach": MetricName.REACH,
    "likes": MetricName.LIKES,
    "comments": MetricName.COMMENTS,
    "shares": MetricName.SHARES,
    "saved": MetricName.SAVES,
}


class _Account(BaseModel):
    id: str
    username: str


class _Me(BaseModel):
    id: str
    instagram_business_account: _Account | None = None


class _Created(BaseModel):
    id: str


class _Media(BaseModel):
    id: str
    caption: str = ""
    permalink: str | None = None
    media_type: str | None = None


class _MediaList(BaseModel):
    data: list[_Media]


class InstagramAdapter:
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
    ) -> None:
        self._http = GraphHttp(PLATFORM, http_client, timeout=timeout)
        self._login = FacebookLogin(self._http, client_id, SecretStr(client_secret))
        self._marker_search_depth = marker_search_depth
        self._poll_interval_s = container_poll_interval_s
        self._poll_attempts = container_poll_attempts
        self._sleep = sleep

    async def authorize_url(
        self, state: str, code_challenge: str, redirect_uri: str, scopes: Sequence[str]
    ) -> str:
        return self._login.authorize_url(state, code_challenge, redirect_uri, meta_scopes(scopes, SCOPES))

    async def exchange_code(self, grant: AuthorizationGrant) -> TokenSet:
        user_token = await self._login.long_lived_user_token(grant)
        return TokenSet(access_token=SecretStr(user_token), scopes=SCOPES)

    async def publishable_accounts(self, tokens: TokenSet) -> list[ConnectableAccount]:
        pages = await managed_pages(
            self._http,
            tokens.access_token.get_secret_value(),
            "id,name,access_token,instagram_business_account{id,username}",
        )
        accounts: list[ConnectableAccount] = []
        for page in pages:
            linked = page.instagram_business_account
            if not page.access_token or not linked or "id" not in linked:
                continue  # a page without a linked professional account has nothing to post to
            accounts.append(
                ConnectableAccount(
                    account=PlatformAccount(id=linked["id"], name=linked.get("username", linked["id"])),
                    tokens=TokenSet(
                        access_token=SecretStr(page.access_token),
                        scopes=tokens.scopes,
                        account_id=linked["id"],
                    ),
                )
            )
        return accounts

    async def refresh(self, refresh_token: str) -> TokenSet:
        raise NotSupported("page tokens do not expire and have no refresh token", platform=PLATFORM)

    async def revoke(self, token: str) -> None:
        await self._login.revoke(token)

    async def get_account(self, access_token: str) -> PlatformAccount:
        account = await self._linked_account(access_token)
        return PlatformAccount(id=account.id, name=account.username)

    async def publish(self, access_token: str, request: PublishRequest) -> PublishedPost:
        if not request.media:
            raise Rejected("an Instagram post needs an image or a video", platform=PLATFORM)
        if len(request.media) > CAROUSEL_MAX:
            raise Rejected(f"a carousel holds at most {CAROUSEL_MAX} items", platform=PLATFORM)
        user = quote(request.account_id or (await self._linked_account(access_token)).id, safe="")
        await check_publishing_quota(self._http, f"{GRAPH_URL}/{user}/content_publishing_limit", access_token)
        if len(request.media) == 1:
            container = await self._container(
                access_token, user, request.media[0], caption=request.text, video_type=_video_type(request)
            )
        else:
            children = [
                await self._container(access_token, user, item, carousel_item=True) for item in request.media
            ]
            container = await self._create(
                access_token,
                user,
                {"media_type": "CAROUSEL", "children": ",".join(children), "caption": request.text},
            )
        await wait_for_container(
            self._http,
            f"{GRAPH_URL}/{quote(container, safe='')}",
            access_token,
            fields="status_code",
            attempts=self._poll_attempts,
            interval_s=self._poll_interval_s,
            sleep=self._sleep,
        )
        response = await self._http.request(
            "POST",
            f"{GRAPH_URL}/{user}/media_publish",
            creates=True,
            headers=bearer(access_token),
            data={"creation_id": container},
        )
        media_id = self._http.parse(response, _Created, creates=True).id
        try:
            media = await self._media(access_token, media_id)
        except Retryable:
            media = None  # the post exists; only its link is missing
        return PublishedPost(remote_id=media_id, url=media.permalink if media else None)

    async def get_post_status(self, access_token: str, remote_id: str) -> PostStatus | None:
        media = await self._media(access_token, remote_id)
        if media is None:
            return None
        return PostStatus(remote_id=media.id, state=PostState.PUBLISHED, url=media.permalink)

    async def find_post_by_marker(self, access_token: str, marker: str) -> PublishedPost | None:
        user = (await self._linked_account(access_token)).id
        response = await self._http.request(
            "GET",
            f"{GRAPH_URL}/{quote(user, safe='')}/media",
            params={"fields": "id,caption,permalink", "limit": str(self._marker_search_depth)},
            headers=bearer(access_token),
        )
        for media in self._http.parse(response, _MediaList).data:  # newest first
            if marker in media.caption:
                return PublishedPost(remote_id=media.id, url=media.permalink)
        return None

    async def fetch_metrics(self, access_token: str, remote_ids: Sequence[str]) -> list[MetricPoint]:
        points: list[MetricPoint] = []
        for remote_id in remote_ids:
            media = await self._media(access_token, remote_id)
            if media is None:
                continue
            response = await self._http.request(
                "GET",
                f"{GRAPH_URL}/{quote(remote_id, safe='')}/insights",
                params={"metric": ",".join([*INSIGHTS, "views"])},
                headers=bearer(access_token),
            )
            # "views" counts plays of a reel and showings of an image or carousel.
            views = MetricName.VIDEO_VIEWS if media.media_type == "VIDEO" else MetricName.IMPRESSIONS
            names = INSIGHTS | {"views": views}
            observed_at = datetime.now(UTC)
            points.extend(
                MetricPoint(remote_id=remote_id, name=names[name], value=value, observed_at=observed_at)
                for name, value in insight_values(self._http, response).items()
                if name in names
            )
        return points

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        raise NotSupported("Meta's webhooks arrive at the webhooks service", platform=PLATFORM)

    async def _linked_account(self, access_token: str) -> _Account:
        response = await self._http.request(
            "GET",
            f"{GRAPH_URL}/me",
            params={"fields": "id,instagram_business_account{id,username}"},
            headers=bearer(access_token),
        )
        me = self._http.parse(response, _Me)
        if me.instagram_business_account is None:
            raise Rejected(
                "the page has no Instagram professional account linked any more", platform=PLATFORM
            )
        return me.instagram_business_account

    async def _container(
        self,
        access_token: str,
        user: str,
        item: MediaAttachment,
        *,
        caption: str = "",
        video_type: str = "REELS",
        carousel_item: bool = False,
    ) -> str:
        if item.url is None:
            raise Rejected("Instagram fetches media by URL and this item has none", platform=PLATFORM)
        form: dict[str, str] = {}
        if item.mime_type.startswith("video/"):
            form |= {"media_type": "VIDEO" if carousel_item else video_type, "video_url": item.url}
        else:
            form["image_url"] = item.url
            if item.alt_text:
                form["alt_text"] = item.alt_text
        if carousel_item:
            form["is_carousel_item"] = "true"
        elif caption:
            form["caption"] = caption
        return await self._create(access_token, user, form)

    async def _create(self, access_token: str, user: str, form: dict[str, str]) -> str:
        # A container is not a post: a lost answer leaves at most one that expires unpublished.
        response = await self._http.request(
            "POST", f"{GRAPH_URL}/{user}/media", headers=bearer(access_token), data=form
        )
        return self._http.parse(response, _Created).id

    async def _media(self, access_token: str, media_id: str) -> _Media | None:
        return await get_node(self._http, access_token, media_id, "id,caption,permalink,media_type", _Media)


def _video_type(request: PublishRequest) -> str:
    wanted = request.options.get("media_type", "REELS").upper()
    if wanted not in VIDEO_TYPES:
        raise Rejected(f"media_type must be one of {sorted(VIDEO_TYPES)}, not {wanted!r}", platform=PLATFORM)
    return wanted
