"""Facebook Pages over the Graph API, v21.0.

Reference: https://developers.facebook.com/docs/pages-api (posts: /docs/pages-api/posts, photos:
/docs/graph-api/reference/page/photos, videos: /docs/video-api/guides/publishing, insights:
/docs/graph-api/reference/insights), errors and rate limits in graph.py.

Connecting (graph.FacebookLogin): Facebook Login with the pages_show_list,
pages_manage_posts, pages_read_engagement and read_insights permissions; the code becomes a
long-lived user token, and /me/accounts gives every page the person chose in Facebook's dialog
with its own page token. Each page the person may post to (task CREATE_CONTENT) is its own
connection holding its page token, which does not expire; refresh() is NotSupported.

Publishing, with the page token (/me is the page):
- text and links: POST /me/feed {message, link}
- one image: POST /me/photos (multipart `source`, streamed from the store) {caption, alt_text_custom}
- several images: each POST /me/photos {published=false}, then POST /me/feed {attached_media}
- one video: POST graph-video.facebook.com/.../me/videos (multipart `source`) {description},
  then GET /{video-id}?fields=status until Meta has processed it.
Unpublished photos are not posts (they expire unseen), so only the last call of each is a write
whose lost answer is an UnknownOutcome.

No duplicate posts: the Graph API has no idempotency key. After an unknown outcome the page's
recent posts (/me/posts, newest first) are searched for the post's text (find_post_by_marker)
before anything is sent again.

Metrics: /{post-id}/insights post_impressions (impressions) and post_impressions_unique
(reach), with the post's reactions (likes), comments and shares summaries. Facebook gives no
saves and no quotes: those are absent, not zero.
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
    GRAPH_VERSION,
    FacebookLogin,
    GraphHttp,
    get_node,
    insight_values,
    managed_pages,
    meta_scopes,
)
from aligned_connections.adapters.platforms.http import DEFAULT_TIMEOUT, bearer
from aligned_connections.adapters.platforms.media import multipart_body
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

PLATFORM = "facebook"
GRAPH_VIDEO_URL = f"https://graph-video.facebook.com/{GRAPH_VERSION}"
SCOPES = ("pages_show_list", "pages_manage_posts", "pages_read_engagement", "read_insights")


class _Me(BaseModel):
    id: str
    name: str


class _Created(BaseModel):
    id: str
    post_id: str | None = None  # /photos answers the photo's id and the post's


class _Post(BaseModel):
    id: str
    message: str = ""
    permalink_url: str | None = None


class _Posts(BaseModel):
    data: list[_Post]


class _VideoStatus(BaseModel):
    video_status: str  # ready, processing, error, expired, upload_failed, ...


class _Video(BaseModel):
    id: str
    status: _VideoStatus | None = None
    permalink_url: str | None = None


class _Summary(BaseModel):
    total_count: int = 0


class _Counted(BaseModel):
    summary: _Summary | None = None


class _Shares(BaseModel):
    count: int = 0


class _Engagement(BaseModel):
    id: str
    shares: _Shares | None = None
    comments: _Counted | None = None
    reactions: _Counted | None = None


class FacebookAdapter:
    platform = PLATFORM

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        http_client: httpx.AsyncClient,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        marker_search_depth: int = 25,
        video_poll_interval_s: float = 3.0,
        video_poll_attempts: int = 40,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._http = GraphHttp(PLATFORM, http_client, timeout=timeout)
        self._login = FacebookLogin(self._http, client_id, SecretStr(client_secret))
        self._marker_search_depth = marker_search_depth
        self._video_poll_interval_s = video_poll_interval_s
        self._video_poll_attempts = video_poll_attempts
        self._sleep = sleep

    async def authorize_url(
        self, state: str, code_challenge: str, redirect_uri: str, scopes: Sequence[str]
    ) -> str:
        # The service's defaults ("read", "write") are not Meta permissions: ours replace them.
        return self._login.authorize_url(state, code_challenge, redirect_uri, meta_scopes(scopes, SCOPES))

    async def exchange_code(self, grant: AuthorizationGrant) -> TokenSet:
        user_token = await self._login.long_lived_user_token(grant)
        return TokenSet(access_token=SecretStr(user_token), scopes=SCOPES)

    async def publishable_accounts(self, tokens: TokenSet) -> list[ConnectableAccount]:
        pages = await managed_pages(
            self._http, tokens.access_token.get_secret_value(), "id,name,access_token,tasks"
        )
        return [
            ConnectableAccount(
                account=PlatformAccount(id=page.id, name=page.name),
                tokens=TokenSet(
                    access_token=SecretStr(page.access_token), scopes=tokens.scopes, account_id=page.id
                ),
            )
            for page in pages
            # A page token comes only with a role on the page; CREATE_CONTENT is the task to post.
            if page.access_token and "CREATE_CONTENT" in page.tasks
        ]

    async def refresh(self, refresh_token: str) -> TokenSet:
        raise NotSupported("page tokens do not expire and have no refresh token", platform=PLATFORM)

    async def revoke(self, token: str) -> None:
        await self._login.revoke(token)

    async def get_account(self, access_token: str) -> PlatformAccount:
        response = await self._http.request(
            "GET", f"{GRAPH_URL}/me", params={"fields": "id,name"}, headers=bearer(access_token)
        )
        me = self._http.parse(response, _Me)
        return PlatformAccount(id=me.id, name=me.name)

    async def publish(self, access_token: str, request: PublishRequest) -> PublishedPost:
        page = quote(request.account_id or "me", safe="")
        images = [item for item in request.media if item.mime_type.startswith("image/")]
        videos = [item for item in request.media if item.mime_type.startswith("video/")]
        if videos and (images or len(videos) > 1):
            raise Rejected("a Facebook post carries images or one video, not both", platform=PLATFORM)
        if videos:
            return await self._publish_video(access_token, page, request.text, videos[0])
        if len(images) == 1:
            created = await self._upload_photo(
                access_token, page, images[0], caption=request.text, published=True
            )
            return await self._published(access_token, created.post_id or created.id)
        form: dict[str, str] = {"message": request.text}
        if link := request.options.get("link"):
            form["link"] = link
        for index, image in enumerate(images):
            photo = await self._upload_photo(access_token, page, image, caption="", published=False)
            form[f"attached_media[{index}]"] = f'{{"media_fbid":"{photo.id}"}}'
        response = await self._http.request(
            "POST", f"{GRAPH_URL}/{page}/feed", creates=True, headers=bearer(access_token), data=form
        )
        return await self._published(access_token, self._http.parse(response, _Created, creates=True).id)

    async def get_post_status(self, access_token: str, remote_id: str) -> PostStatus | None:
        post = await get_node(self._http, access_token, remote_id, "id,permalink_url", _Post)
        if post is None:
            return None
        return PostStatus(remote_id=post.id, state=PostState.PUBLISHED, url=post.permalink_url)

    async def find_post_by_marker(self, access_token: str, marker: str) -> PublishedPost | None:
        response = await self._http.request(
            "GET",
            f"{GRAPH_URL}/me/posts",
            params={"fields": "id,message,permalink_url", "limit": str(self._marker_search_depth)},
            headers=bearer(access_token),
        )
        for post in self._http.parse(response, _Posts).data:  # newest first
            if marker in post.message:
                return PublishedPost(remote_id=post.id, url=post.permalink_url)
        return None

    async def fetch_metrics(self, access_token: str, remote_ids: Sequence[str]) -> list[MetricPoint]:
        points: list[MetricPoint] = []
        for remote_id in remote_ids:
            engagement = await get_node(
                self._http,
                access_token,
                remote_id,
                "id,shares,comments.limit(0).summary(true),reactions.limit(0).summary(true)",
                _Engagement,
            )
            if engagement is None:
                continue  # gone from the page
            observed_at = datetime.now(UTC)
            # Meta leaves out `shares` when nobody shared, but a missing summary is unknown.
            values: dict[MetricName, int] = {
                MetricName.SHARES: engagement.shares.count if engagement.shares else 0
            }
            if engagement.reactions and engagement.reactions.summary:
                values[MetricName.LIKES] = engagement.reactions.summary.total_count
            if engagement.comments and engagement.comments.summary:
                values[MetricName.COMMENTS] = engagement.comments.summary.total_count
            values |= await self._insights(access_token, remote_id)
            points.extend(
                MetricPoint(remote_id=remote_id, name=name, value=value, observed_at=observed_at)
                for name, value in values.items()
            )
        return points

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        raise NotSupported("Meta's webhooks arrive at the webhooks service", platform=PLATFORM)

    async def _insights(self, access_token: str, remote_id: str) -> dict[MetricName, int]:
        response = await self._http.request(
            "GET",
            f"{GRAPH_URL}/{quote(remote_id, safe='')}/insights",
            params={"metric": "post_impressions,post_impressions_unique"},
            headers=bearer(access_token),
        )
        names = {"post_impressions": MetricName.IMPRESSIONS, "post_impressions_unique": MetricName.REACH}
        values = insight_values(self._http, response)
        return {names[name]: value for name, value in values.items() if name in names}

    async def _upload_photo(
        self, access_token: str, page: str, item: MediaAttachment, *, caption: str, published: bool
    ) -> _Created:
        fields = {"published": "true" if published else "false"}
        if caption:
            fields["caption"] = caption
        if item.alt_text:
            fields["alt_text_custom"] = item.alt_text
        headers, body = multipart_body(
            self._http.client, item, PLATFORM, field="source", filename="upload", fields=fields
        )
        response = await self._http.request(
            "POST",
            f"{GRAPH_URL}/{page}/photos",
            creates=published,
            headers=bearer(access_token) | headers,
            content=body,
        )
        return self._http.parse(response, _Created, creates=published)

    async def _publish_video(
        self, access_token: str, page: str, description: str, item: MediaAttachment
    ) -> PublishedPost:
        headers, body = multipart_body(
            self._http.client,
            item,
            PLATFORM,
            field="source",
            filename="upload",
            fields={"description": description},
        )
        response = await self._http.request(
            "POST",
            f"{GRAPH_VIDEO_URL}/{page}/videos",
            creates=True,
            headers=bearer(access_token) | headers,
            content=body,
        )
        video_id = self._http.parse(response, _Created, creates=True).id
        for _ in range(self._video_poll_attempts):
            video = await get_node(self._http, access_token, video_id, "id,status,permalink_url", _Video)
            state = video.status.video_status if video and video.status else "processing"
            if state == "ready":
                url = video.permalink_url if video else None
                return PublishedPost(remote_id=video_id, url=_absolute(url))
            if state in ("error", "expired", "upload_failed"):
                raise Rejected(
                    "Facebook could not process the video", platform=PLATFORM, platform_message=state
                )
            await self._sleep(self._video_poll_interval_s)
        # The upload landed and Facebook publishes it when processing ends: the post exists.
        return PublishedPost(remote_id=video_id, url=None)

    async def _published(self, access_token: str, post_id: str) -> PublishedPost:
        try:
            post = await get_node(self._http, access_token, post_id, "id,permalink_url", _Post)
        except Retryable:
            post = None  # the post exists; only its link is missing
        return PublishedPost(remote_id=post_id, url=post.permalink_url if post else None)


def _absolute(url: str | None) -> str | None:
    # A video's permalink_url is a path on facebook.com ("/{page}/videos/{id}/").
    return f"https://www.facebook.com{url}" if url and url.startswith("/") else url
