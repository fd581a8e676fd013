"""The JSON shapes of the sandbox's public API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

PostState = Literal["published", "deleted"]
# Who sees a post, as Mastodon's visibility: the sandbox's per-platform field (with `sensitive`),
# kept on the post and shown on its page, so a test sees the option reach the platform.
Visibility = Literal["public", "unlisted", "private"]


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    # Left out of the JSON when None: the client must then keep the refresh token it has.
    refresh_token: str | None = None
    scope: str


class AccountOut(BaseModel):
    id: str
    name: str


class MediaOut(BaseModel):
    id: str
    mime_type: str
    size_bytes: int
    sha256: str
    alt_text: str = ""


class NewPost(BaseModel):
    text: str = ""
    media_ids: list[str] = Field(default_factory=list)
    # As Mastodon's: the post (ours or anyone's, a comment too) this one replies to.
    in_reply_to_id: str | None = Field(default=None, min_length=1, max_length=64)
    visibility: Visibility = "public"
    sensitive: bool = False  # shown behind a content warning


class PostOut(BaseModel):
    id: str
    account_id: str
    url: str
    text: str
    media_ids: list[str]
    media: list[MediaOut] = Field(default_factory=list)  # every attachment as received
    status: PostState
    created_at: datetime
    in_reply_to_id: str | None = None
    visibility: Visibility = "public"
    sensitive: bool = False
    # The thread above this post, from its first post down to the direct parent (ids).
    reply_chain: list[str] = Field(default_factory=list)
    reply_ids: list[str] = Field(default_factory=list)  # direct replies, oldest first


class PostList(BaseModel):
    posts: list[PostOut]


class PostMetricsOut(BaseModel):
    post_id: str
    observed_at: datetime
    impressions: int
    likes: int
    shares: int
    comments: int


class AccountMetricsOut(BaseModel):
    account_id: str
    observed_at: datetime
    followers: int
    following: int
    posts: int
