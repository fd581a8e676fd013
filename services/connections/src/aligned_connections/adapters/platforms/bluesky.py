"""Bluesky over the AT Protocol (XRPC against the user's PDS; bsky.social by default).

Connecting: Bluesky is not connected through an OAuth redirect here. The user creates an app
password in Bluesky's settings and gives it to us once; exchange_code(AppPassword(...)) opens a
session with com.atproto.server.createSession and the password is not kept. The session's
access JWT lasts about two hours and its refresh JWT about two months; refreshSession replaces
both. authorize_url raises NotSupported.

No duplicate posts: the post's record key is derived from the idempotency key, and the record is
written with putRecord and swapRecord=null ("only if absent"). A retry of a write that did land
is answered InvalidSwap, and we return the post already there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, Field, SecretStr

from aligned_connections.adapters.platforms.atproto import (
    POST_COLLECTION,
    AtUri,
    expiry_of,
    session_claims,
    tid_for_key,
)
from aligned_connections.adapters.platforms.bluesky_richtext import facets
from aligned_connections.adapters.platforms.errors import NotSupported, Rejected, UnknownOutcome
from aligned_connections.adapters.platforms.http import DEFAULT_TIMEOUT, PlatformHttp, bearer, error_details
from aligned_connections.adapters.platforms.media import raw_body
from aligned_connections.adapters.platforms.models import (
    AppPassword,
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

PLATFORM = "bluesky"
# XRPC error names that mean the session or the credentials are no good.
AUTH_ERROR_CODES = frozenset(
    {"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing", "AccountTakedown"}
)
GET_POSTS_BATCH = 25  # app.bsky.feed.getPosts takes at most 25 URIs


class _Session(BaseModel):
    access_jwt: str = Field(alias="accessJwt")
    refresh_jwt: str = Field(alias="refreshJwt")
    did: str
    handle: str


class _SessionInfo(BaseModel):
    did: str
    handle: str


class _UploadedBlob(BaseModel):
    blob: dict[str, Any]


class _WrittenRecord(BaseModel):
    uri: str
    cid: str


class _StoredRecord(BaseModel):
    uri: str
    cid: str | None = None  # the lexicon makes it optional; a reply needs it (a strong ref)
    value: dict[str, Any]


class _Author(BaseModel):
    did: str


class _PostView(BaseModel):
    uri: str
    author: _Author
    record: dict[str, Any]
    like_count: int = Field(default=0, alias="likeCount")
    repost_count: int = Field(default=0, alias="repostCount")
    reply_count: int = Field(default=0, alias="replyCount")
    quote_count: int = Field(default=0, alias="quoteCount")


class _Posts(BaseModel):
    posts: list[_PostView]


class _FeedItem(BaseModel):
    post: _PostView
    reason: dict[str, Any] | None = None  # set for a repost, which is not the account's own post


class _Feed(BaseModel):
    feed: list[_FeedItem]


class BlueskyAdapter:
    platform = PLATFORM

    def __init__(
        self,
        service_url: str = "https://bsky.social",
        *,
        http_client: httpx.AsyncClient,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        app_url: str = "https://bsky.app",
        marker_search_depth: int = 50,
    ) -> None:
        self._service_url = service_url.rstrip("/")
        self._app_url = app_url.rstrip("/")
        self._http = PlatformHttp(PLATFORM, http_client, timeout=timeout, auth_error_codes=AUTH_ERROR_CODES)
        self._marker_search_depth = marker_search_depth

    async def authorize_url(
        self, state: str, code_challenge: str, redirect_uri: str, scopes: Sequence[str]
    ) -> str:
        raise NotSupported(
            "Bluesky connects with an app password: call exchange_code(AppPassword(...))", platform=PLATFORM
        )

    async def exchange_code(self, grant: AuthorizationGrant) -> TokenSet:
        if not isinstance(grant, AppPassword):
            raise NotSupported(
                "Bluesky connects with an app password, not an authorization code", platform=PLATFORM
            )
        response = await self._http.request(
            "POST",
            self._xrpc("com.atproto.server.createSession"),
            json={
                "identifier": grant.identifier,
                "password": grant.password.get_secret_value(),
            },
        )
        return _token_set(self._http.parse(response, _Session))

    async def refresh(self, refresh_token: str) -> TokenSet:
        """Bluesky replaces the refresh JWT on every refresh; the old one stops working."""
        response = await self._http.request(
            "POST", self._xrpc("com.atproto.server.refreshSession"), headers=bearer(refresh_token)
        )
        return _token_set(self._http.parse(response, _Session))

    async def revoke(self, token: str) -> None:
        """Ends the session; `token` must be the refresh JWT (deleteSession takes no other)."""
        await self._http.request(
            "POST", self._xrpc("com.atproto.server.deleteSession"), headers=bearer(token)
        )

    async def get_account(self, access_token: str) -> PlatformAccount:
        session = await self._session_info(access_token)
        return PlatformAccount(id=session.did, name=session.handle)

    async def publish(self, access_token: str, request: PublishRequest) -> PublishedPost:
        did = await self._did(access_token)
        uri = AtUri(did, POST_COLLECTION, tid_for_key(request.idempotency_key))
        record = await self._post_record(access_token, request)
        try:
            response = await self._http.request(
                "POST",
                self._xrpc("com.atproto.repo.putRecord"),
                creates=True,
                tolerate={400},
                headers=bearer(access_token),
                json={
                    "repo": did,
                    "collection": POST_COLLECTION,
                    "rkey": uri.rkey,
                    "record": record,
                    "swapRecord": None,
                },  # null: write only if no record is there yet
            )
        except UnknownOutcome as lost:
            raise UnknownOutcome(
                str(lost),
                platform=PLATFORM,
                platform_message=lost.platform_message,
                status_code=lost.status_code,
                remote_id=str(uri),
            ) from lost
        if response.status_code == 400:
            return await self._settle_existing(access_token, response, uri, request.text)
        written = self._http.parse(response, _WrittenRecord, creates=True)
        return PublishedPost(remote_id=written.uri, url=self._post_url(uri))

    async def get_post_status(self, access_token: str, remote_id: str) -> PostStatus | None:
        stored = await self._record(access_token, _parse_uri(remote_id))
        if stored is None:
            return None
        return PostStatus(
            remote_id=stored.uri, state=PostState.PUBLISHED, url=self._post_url(AtUri.parse(stored.uri))
        )

    async def find_post_by_marker(self, access_token: str, marker: str) -> PublishedPost | None:
        did = await self._did(access_token)
        response = await self._http.request(
            "GET",
            self._xrpc("app.bsky.feed.getAuthorFeed"),
            headers=bearer(access_token),
            # With replies: a first comment or a thread's later part is one of our posts too.
            params={"actor": did, "limit": self._marker_search_depth, "filter": "posts_with_replies"},
        )
        for item in self._http.parse(response, _Feed).feed:  # newest first
            own_post = item.reason is None and item.post.author.did == did
            if own_post and marker in str(item.post.record.get("text", "")):
                return PublishedPost(remote_id=item.post.uri, url=self._post_url(AtUri.parse(item.post.uri)))
        return None

    async def fetch_metrics(self, access_token: str, remote_ids: Sequence[str]) -> list[MetricPoint]:
        """Likes, reposts, replies and quotes; Bluesky publishes no impression counts."""
        points: list[MetricPoint] = []
        for start in range(0, len(remote_ids), GET_POSTS_BATCH):
            batch = remote_ids[start : start + GET_POSTS_BATCH]
            response = await self._http.request(
                "GET",
                self._xrpc("app.bsky.feed.getPosts"),
                headers=bearer(access_token),
                params=[("uris", uri) for uri in batch],
            )
            observed_at = datetime.now(UTC)
            for post in self._http.parse(response, _Posts).posts:
                points.extend(_metric_points(post, observed_at))
        return points

    async def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        raise NotSupported("Bluesky sends no webhooks; its events come from the firehose", platform=PLATFORM)

    async def _post_record(self, access_token: str, request: PublishRequest) -> dict[str, Any]:
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": request.text,
            "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        if found_facets := facets(request.text):
            record["facets"] = found_facets
        if request.media:
            record["embed"] = await self._embed(access_token, request.media)
        if request.reply_to is not None:
            record["reply"] = {
                "root": await self._strong_ref(access_token, request.reply_to.root_remote_id),
                "parent": await self._strong_ref(access_token, request.reply_to.parent_remote_id),
            }
        return record

    async def _strong_ref(self, access_token: str, remote_id: str) -> dict[str, str]:
        """app.bsky.feed.post's reply wants {uri, cid} of the root and the parent; we keep only
        the uri (the remote id), so the cid is read from the record itself."""
        stored = await self._record(access_token, _parse_uri(remote_id))
        if stored is None or stored.cid is None:
            raise Rejected(f"the post to reply to ({remote_id}) is not there", platform=PLATFORM)
        return {"uri": stored.uri, "cid": stored.cid}

    async def _embed(self, access_token: str, media: Sequence[MediaAttachment]) -> dict[str, Any]:
        blobs = [await self._upload(access_token, item) for item in media]
        if media[0].mime_type.startswith("video/"):
            return {"$type": "app.bsky.embed.video", "video": blobs[0], "alt": media[0].alt_text}
        return {
            "$type": "app.bsky.embed.images",
            "images": [
                {"alt": item.alt_text, "image": blob} for item, blob in zip(media, blobs, strict=True)
            ],
        }

    async def _upload(self, access_token: str, item: MediaAttachment) -> dict[str, Any]:
        headers, body = raw_body(self._http.client, item, PLATFORM)
        response = await self._http.request(
            "POST",
            self._xrpc("com.atproto.repo.uploadBlob"),
            content=body,
            headers=bearer(access_token) | headers,
        )
        return self._http.parse(response, _UploadedBlob).blob

    async def _settle_existing(
        self, access_token: str, refusal: httpx.Response, uri: AtUri, text: str
    ) -> PublishedPost:
        """putRecord said 400. InvalidSwap means the record key is taken: by an earlier attempt of
        this very publish (success), or, against all odds, by another post (refuse)."""
        code, _ = error_details(refusal)
        if code != "InvalidSwap":
            self._http.raise_for_status(refusal)
        existing = await self._record(access_token, uri)
        if existing is not None and existing.value.get("text") == text:
            return PublishedPost(remote_id=existing.uri, url=self._post_url(uri))
        raise Rejected(
            f"record key {uri.rkey} already holds another post", platform=PLATFORM, status_code=400
        )

    async def _record(self, access_token: str, uri: AtUri) -> _StoredRecord | None:
        response = await self._http.request(
            "GET",
            self._xrpc("com.atproto.repo.getRecord"),
            headers=bearer(access_token),
            tolerate={400, 404},
            params={"repo": uri.repo, "collection": uri.collection, "rkey": uri.rkey},
        )
        if response.status_code in {400, 404}:
            if error_details(response)[0] == "RecordNotFound":
                return None
            self._http.raise_for_status(response)
        return self._http.parse(response, _StoredRecord)

    async def _did(self, access_token: str) -> str:
        subject = session_claims(access_token).get("sub")
        if isinstance(subject, str) and subject.startswith("did:"):
            return subject
        return (await self._session_info(access_token)).did

    async def _session_info(self, access_token: str) -> _SessionInfo:
        response = await self._http.request(
            "GET", self._xrpc("com.atproto.server.getSession"), headers=bearer(access_token)
        )
        return self._http.parse(response, _SessionInfo)

    def _post_url(self, uri: AtUri) -> str:
        return f"{self._app_url}/profile/{uri.repo}/post/{uri.rkey}"

    def _xrpc(self, method: str) -> str:
        return f"{self._service_url}/xrpc/{method}"


def _parse_uri(remote_id: str) -> AtUri:
    try:
        return AtUri.parse(remote_id)
    except ValueError as error:
        raise Rejected(f"{remote_id!r} is not the AT URI of a Bluesky post", platform=PLATFORM) from error


def _token_set(session: _Session) -> TokenSet:
    return TokenSet(
        access_token=SecretStr(session.access_jwt),
        refresh_token=SecretStr(session.refresh_jwt),
        expires_at=expiry_of(session.access_jwt),
        account_id=session.did,
    )


def _metric_points(post: _PostView, observed_at: datetime) -> list[MetricPoint]:
    values = {
        MetricName.LIKES: post.like_count,
        MetricName.SHARES: post.repost_count,
        MetricName.COMMENTS: post.reply_count,
        MetricName.QUOTES: post.quote_count,
    }
    return [
        MetricPoint(remote_id=post.uri, name=name, value=value, observed_at=observed_at)
        for name, value in values.items()
    ]
