"""LinkedIn (Posts API, versioned REST: the LinkedIn-Version header, YYYYMM): members and the
organization pages they administer.

References (learn.microsoft.com/linkedin, Marketing / Community Management, versioned APIs):
- OAuth 2.0 (3-legged): https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow
  (access tokens last 60 days; refresh tokens, 365 days, only for apps LinkedIn enabled for them;
  no PKCE in the web flow, so the state and the client secret guard the exchange)
- Posts: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
  (POST /rest/posts answers 201 with the post's URN in the x-restli-id header and no body)
- Images / multi-image / videos: .../shares/images-api, .../shares/multiimage-post-api,
  .../shares/videos-api (initializeUpload, PUT the bytes, finalizeUpload, status AVAILABLE)
- Organizations: .../organizations/organization-access-control-by-role (organizationAcls)
- Metrics: .../organizations/share-statistics and .../shares/network-update-social-actions
- Rate limits: https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/rate-limits
  (daily, reset at midnight UTC; 429 without a Retry-After)

A connection per publishable account: `list_accounts` names the member (urn:li:person:...) and
every page they administer (urn:li:organization:...); the account id is the author's URN, and
publish posts as `request.account_id` (the member when it is not given).

Never a duplicate: LinkedIn has no idempotency key. After an unknown outcome the recent posts of
every author the token can post as are read (GET /rest/posts?q=author) and the one whose
commentary contains ours is the post; publish is never called again before that.

Per-platform fields (`request.options`): `visibility` PUBLIC (default) or CONNECTIONS (members
only), `video_title`. Metrics: likes and comments for every post (socialActions); impressions,
reach and shares for organization posts only (share statistics) — absent for a member's post.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

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
from aligned_connections.adapters.platforms.media import media_chunks, raw_body, size_of
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

PLATFORM = "linkedin"
API = "https://api.linkedin.com"
OAUTH = "https://www.linkedin.com/oauth/v2"
MEMBER_SCOPES = ("openid", "profile", "w_member_social")
# Pages need LinkedIn's Community Management API product, granted after its review.
PAGE_SCOPES = ("w_organization_social", "r_organization_social", "r_organization_admin")
VISIBILITIES = frozenset({"PUBLIC", "CONNECTIONS"})


class _UserInfo(BaseModel):
    sub: str
    name: str = ""


class _Acl(BaseModel):
    organization: str
    role: str
    state: str = "APPROVED"


class _Acls(BaseModel):
    elements: list[_Acl] = []


class _Organization(BaseModel):
    localizedName: str = ""


class _ImageUpload(BaseModel):
    uploadUrl: str
    image: str


class _UploadPart(BaseModel):
    uploadUrl: str
    firstByte: int
    lastByte: int


class _VideoUpload(BaseModel):
    video: str
    uploadInstructions: list[_UploadPart]
    uploadToken: str = ""


class _ImageUploadAnswer(BaseModel):
    value: _ImageUpload


class _VideoUploadAnswer(BaseModel):
    value: _VideoUpload


class _Video(BaseModel):
    status: str  # WAITING_UPLOAD, PROCESSING, AVAILABLE, PROCESSING_FAILED


class _Post(BaseModel):
    id: str
    commentary: str = ""
    author: str = ""


class _Posts(BaseModel):
    elements: list[_Post] = []


class _LikesSummary(BaseModel):
    totalLikes: int = 0


class _CommentsSummary(BaseModel):
    aggregatedTotalComments: int = 0


class _SocialActions(BaseModel):
    likesSummary: _LikesSummary = _LikesSummary()
    commentsSummary: _CommentsSummary = _CommentsSummary()


class _ShareStatistics(BaseModel):
    impressionCount: int | None = None
    uniqueImpressionsCount: int | None = None
    shareCount: int | None = None


class _ShareStatisticsElement(BaseModel):
    share: str | None = None
    ugcPost: str | None = None
    totalShareStatistics: _ShareStatistics


class _ShareStatisticsAnswer(BaseModel):
    elements: list[_ShareStatisticsElement] = []


def _classify(response: httpx.Response) -> PlatformError | None:
    """LinkedIn's errors are {status, serviceErrorCode, code, message}; a 429 has no Retry-After,
    its daily limits start again at midnight UTC."""
    try:
        body: Any = response.json()
    except ValueError:
        body = {}
    code = body.get("code") if isinstance(body, dict) else None
    message = body.get("message") if isinstance(body, dict) else None
    status = response.status_code
    if status == 429 and "retry-after" not in response.headers:
        now = datetime.now(UTC)
        midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
        return Retryable(
            "LinkedIn's daily limit",
            platform=PLATFORM,
            platform_message=message,
            status_code=429,
            retry_after=(midnight - now).total_seconds(),
        )
    if code in ("INVALID_ACCESS_TOKEN", "EXPIRED_ACCESS_TOKEN", "REVOKED_ACCESS_TOKEN"):
        return AuthFailure(
            "LinkedIn refused the token", platform=PLATFORM, platform_message=message, status_code=status
        )
    return None


class LinkedInAdapter(OAuth2Methods):
    platform = PLATFORM

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        http_client: httpx.AsyncClient,
        api_version: str,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        api_url: str = API,
        oauth_url: str = OAUTH,
        marker_search_depth: int = 20,
        video_poll_interval_s: float = 3.0,
        video_poll_attempts: int = 100,
        pages: bool = True,
    ) -> None:
        self._api = api_url.rstrip("/")
        self._version = api_version
        # Without the Community Management product LinkedIn refuses the page scopes at consent:
        # such an app connects members only.
        self._pages = pages
        self.default_scopes = MEMBER_SCOPES + (PAGE_SCOPES if pages else ())
        self._http = PlatformHttp(PLATFORM, http_client, timeout=timeout, classify=_classify)
        endpoints = OAuthEndpoints(
            authorize=f"{oauth_url}/authorization",
            token=f"{oauth_url}/accessToken",
            revoke=f"{oauth_url}/revoke",
        )
        # LinkedIn's web (3-legged) flow documents no PKCE; its client secret proves the exchange.
        self._oauth = OAuth2Client(
            self._http,
            endpoints,
            OAuthClientCredentials(client_id, SecretStr(client_secret)),
            dialect=OAuthDialect(pkce=False),
        )
        self._marker_search_depth = marker_search_depth
        self._video_poll_interval_s = video_poll_interval_s
        self._video_poll_attempts = video_poll_attempts

    async def get_account(self, access_token: str) -> PlatformAccount:
        me = await self._me(access_token)
        return PlatformAccount(id=f"urn:li:person:{me.sub}", name=me.name or me.sub)

    async def list_accounts(self, access_token: str) -> list[PlatformAccount]:
        """The member, then every organization page they administer: one connection each."""
        accounts = [await self.get_account(access_token)]
        if not self._pages:
            return accounts
        response = await self._http.request(
            "GET",
            f"{self._api}/rest/organizationAcls",
            headers=self._headers(access_token),
            params={"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED"},
            tolerate={403},  # the member declined the page scopes: their own account only
        )
        if response.status_code == 403:
            return accounts
        for acl in self._http.parse(response, _Acls).elements:
            organization_id = acl.organization.rsplit(":", 1)[-1]
            answer = await self._http.request(
                "GET",
                f"{self._api}/rest/organizations/{quote(organization_id, safe='')}",
                headers=self._headers(access_token),
            )
            name = self._http.parse(answer, _Organization).localizedName or acl.organization
            accounts.append(PlatformAccount(id=acl.organization, name=name))
        return accounts

    async def publish(self, access_token: str, request: PublishRequest) -> PublishedPost:
        author = request.account_id or (await self.get_account(access_token)).id
        visibility = request.options.get("visibility", "PUBLIC").upper()
        if visibility not in VISIBILITIES or (visibility == "CONNECTIONS" and ":organization:" in author):
            raise Rejected(
                f"LinkedIn visibility {visibility!r} is not possible for {author}", platform=PLATFORM
            )
        body: dict[str, object] = {
            "author": author,
            "commentary": _escape_little_text(request.text),
            "visibility": visibility,
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if content := await self._content(access_token, author, request):
            body["content"] = content
        response = await self._http.request(
            "POST", f"{self._api}/rest/posts", creates=True, headers=self._headers(access_token), json=body
        )
        urn = response.headers.get("x-restli-id")
        if not urn:
            # A 201 without the post's URN: it was most likely made, so it is looked for.
            raise UnknownOutcome(
                "LinkedIn answered without the post's id", platform=PLATFORM, status_code=response.status_code
            )
        return PublishedPost(remote_id=urn, url=_url_of(urn))

    async def get_post_status(self, access_token: str, remote_id: str) -> PostStatus | None:
        post = await self._post(access_token, remote_id)
        if post is None:
            return None
        return PostStatus(remote_id=post.id, state=PostState.PUBLISHED, url=_url_of(post.id))

    async def find_post_by_marker(self, access_token: str, marker: str) -> PublishedPost | None:
        wanted = " ".join(marker.split())
        for account in await self.list_accounts(access_token):
            response = await self._http.request(
                "GET",
                f"{self._api}/rest/posts",
                headers=self._headers(access_token) | {"X-RestLi-Method": "FINDER"},
                params={
                    "q": "author",
                    "author": account.id,
                    "count": self._marker_search_depth,
                    "sortBy": "LAST_MODIFIED",
                },
                tolerate={403},  # a member's own posts need r_member_social, which LinkedIn restricts
            )
            if response.status_code == 403:
                continue
            for post in self._http.parse(response, _Posts).elements:
                if wanted and wanted in " ".join(_unescape_little_text(post.commentary).split()):
                    return PublishedPost(remote_id=post.id, url=_url_of(post.id))
        return None

    async def fetch_metrics(self, access_token: str, remote_ids: Sequence[str]) -> list[MetricPoint]:
        points: list[MetricPoint] = []
        for remote_id in remote_ids:
            response = await self._http.request(
                "GET",
                f"{self._api}/rest/socialActions/{quote(remote_id, safe='')}",
                headers=self._headers(access_token),
                tolerate={404},
            )
            if response.status_code == 404:
                continue  # gone
            actions = self._http.parse(response, _SocialActions)
            values = {
                MetricName.LIKES: actions.likesSummary.totalLikes,
                MetricName.COMMENTS: actions.commentsSummary.aggregatedTotalComments,
            }
            points.extend(metric_points(remote_id, values, datetime.now(UTC)))
        return points + await self._organization_statistics(access_token, remote_ids)

    async def _statistics_of_organization(
        self, access_token: str, organization: str, remote_ids: Sequence[str]
    ) -> list[MetricPoint]:
        """Impressions, reach and shares of an organization's posts (share statistics)."""
        shares = [r for r in remote_ids if r.startswith("urn:li:share:")]
        ugc = [r for r in remote_ids if r.startswith("urn:li:ugcPost:")]
        # Rest.li 2.0: URNs are encoded inside List(...), which httpx's params would encode again.
        query = f"q=organizationalEntity&organizationalEntity={quote(organization, safe='')}"
        if shares:
            query += f"&shares=List({','.join(quote(s, safe='') for s in shares)})"
        if ugc:
            query += f"&ugcPosts=List({','.join(quote(u, safe='') for u in ugc)})"
        response = await self._http.request(
            "GET",
            f"{self._api}/rest/organizationalEntityShareStatistics?{query}",
            headers=self._headers(access_token),
        )
        now = datetime.now(UTC)
        points: list[MetricPoint] = []
        for element in self._http.parse(response, _ShareStatisticsAnswer).elements:
            remote_id = element.share or element.ugcPost
            if remote_id is None:
                continue  # the organization's totals, not one post's
            stats = element.totalShareStatistics
            values = {
                MetricName.IMPRESSIONS: stats.impressionCount,
                MetricName.REACH: stats.uniqueImpressionsCount,
                MetricName.SHARES: stats.shareCount,
            }
            points.extend(metric_points(remote_id, values, now))
        return points

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        raise NotSupported(
            "LinkedIn's webhooks are for approved partners and are not supported", platform=PLATFORM
        )

    async def _organization_statistics(
        self, access_token: str, remote_ids: Sequence[str]
    ) -> list[MetricPoint]:
        # Share statistics are asked per organization; the posts' authors say which.
        by_author: dict[str, list[str]] = {}
        for remote_id in remote_ids:
            post = await self._post(access_token, remote_id)
            if post is not None and ":organization:" in post.author:
                by_author.setdefault(post.author, []).append(remote_id)
        points: list[MetricPoint] = []
        for organization, ids in by_author.items():
            points.extend(await self._statistics_of_organization(access_token, organization, ids))
        return points

    async def _post(self, access_token: str, remote_id: str) -> _Post | None:
        response = await self._http.request(
            "GET",
            f"{self._api}/rest/posts/{quote(remote_id, safe='')}",
            headers=self._headers(access_token),
            tolerate={404},
        )
        return None if response.status_code == 404 else self._http.parse(response, _Post)

    async def _me(self, access_token: str) -> _UserInfo:
        response = await self._http.request("GET", f"{self._api}/v2/userinfo", headers=bearer(access_token))
        return self._http.parse(response, _UserInfo)

    async def _content(
        self, access_token: str, author: str, request: PublishRequest
    ) -> dict[str, object] | None:
        media = request.media
        if not media:
            return None
        if media[0].mime_type.startswith("video/"):
            if len(media) > 1:
                raise Rejected("LinkedIn takes one video per post, with no other media", platform=PLATFORM)
            video = await self._upload_video(access_token, author, media[0])
            return {"media": {"id": video, "title": request.options.get("video_title", "")}}
        images = [
            {"id": await self._upload_image(access_token, author, item), "altText": item.alt_text}
            for item in media
        ]
        if len(images) == 1:
            return {"media": images[0]}
        return {"multiImage": {"images": images}}

    async def _upload_image(self, access_token: str, author: str, item: MediaAttachment) -> str:
        response = await self._http.request(
            "POST",
            f"{self._api}/rest/images",
            params={"action": "initializeUpload"},
            headers=self._headers(access_token),
            json={"initializeUploadRequest": {"owner": author}},
        )
        upload = self._http.parse(response, _ImageUploadAnswer).value
        headers, body = raw_body(self._http.client, item, PLATFORM)
        await self._http.request(
            "PUT", upload.uploadUrl, headers=bearer(access_token) | headers, content=body
        )
        return upload.image

    async def _upload_video(self, access_token: str, author: str, item: MediaAttachment) -> str:
        size = size_of(item)
        response = await self._http.request(
            "POST",
            f"{self._api}/rest/videos",
            params={"action": "initializeUpload"},
            headers=self._headers(access_token),
            json={
                "initializeUploadRequest": {
                    "owner": author,
                    "fileSizeBytes": size,
                    "uploadCaptions": False,
                    "uploadThumbnail": False,
                }
            },
        )
        upload = self._http.parse(response, _VideoUploadAnswer).value
        etags: list[str] = []
        parts = iter(upload.uploadInstructions)
        part = next(parts, None)
        buffer = bytearray()
        async for chunk in media_chunks(self._http.client, item, PLATFORM):
            buffer.extend(chunk)
            # LinkedIn names each part's byte range (4 MiB parts); send each as soon as it is whole.
            while part is not None and len(buffer) >= part.lastByte - part.firstByte + 1:
                length = part.lastByte - part.firstByte + 1
                etags.append(await self._put_part(part, bytes(buffer[:length])))
                del buffer[:length]
                part = next(parts, None)
        if part is not None or buffer:
            raise Rejected(
                "the video's size does not match LinkedIn's upload instructions", platform=PLATFORM
            )
        await self._http.request(
            "POST",
            f"{self._api}/rest/videos",
            params={"action": "finalizeUpload"},
            headers=self._headers(access_token),
            json={
                "finalizeUploadRequest": {
                    "video": upload.video,
                    "uploadToken": upload.uploadToken,
                    "uploadedPartIds": etags,
                }
            },
        )
        await self._wait_until_available(access_token, upload.video)
        return upload.video

    async def _put_part(self, part: _UploadPart, data: bytes) -> str:
        # The upload URL is presigned: it takes no Authorization header.
        response = await self._http.request(
            "PUT", part.uploadUrl, headers={"Content-Type": "application/octet-stream"}, content=data
        )
        return response.headers.get("etag", "")

    async def _wait_until_available(self, access_token: str, video: str) -> None:
        for _ in range(self._video_poll_attempts):
            response = await self._http.request(
                "GET", f"{self._api}/rest/videos/{quote(video, safe='')}", headers=self._headers(access_token)
            )
            status = self._http.parse(response, _Video).status
            if status == "AVAILABLE":
                return
            if status == "PROCESSING_FAILED":
                raise Rejected(
                    "LinkedIn could not process the video", platform=PLATFORM, platform_message=status
                )
            await asyncio.sleep(self._video_poll_interval_s)
        raise Retryable(
            f"video {video} still processing after {self._video_poll_attempts} checks", platform=PLATFORM
        )

    def _headers(self, access_token: str) -> dict[str, str]:
        return bearer(access_token) | {
            "LinkedIn-Version": self._version,
            "X-Restli-Protocol-Version": "2.0.0",
        }


# The Posts API's "little text" format reserves these characters; typed by a user they must be
# escaped, or LinkedIn reads them as mentions, hashtags or markup and may drop the rest.
_RESERVED = "\\|{}@[]()<>#*_~"


def _escape_little_text(text: str) -> str:
    return "".join("\\" + char if char in _RESERVED else char for char in text)


def _unescape_little_text(text: str) -> str:
    out, escaped = [], False
    for char in text:
        if escaped or char != "\\":
            out.append(char)
            escaped = False
        else:
            escaped = True
    return "".join(out)


def _url_of(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}/"
