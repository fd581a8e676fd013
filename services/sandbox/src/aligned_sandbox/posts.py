"""Posts and uploaded media, with the idempotency that makes a retried publish safe.

Creation counts are kept apart from the posts so that a test can prove that a retry, a timeout or
a crash in the middle never made a second post: GET /_control/posts/counts.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field

from aligned_sandbox.errors import SandboxError
from aligned_sandbox.models import PostState, Visibility


@dataclass
class Media:
    id: str
    account_id: str
    mime_type: str
    size_bytes: int
    sha256: str  # of the bytes received, so a test can prove they are the bytes uploaded
    alt_text: str = ""


@dataclass
class Post:
    id: str
    account_id: str
    text: str
    media_ids: list[str]
    url: str
    created_at: float
    idempotency_key: str | None
    status: PostState = "published"
    deleted_at: float | None = None
    # The post this one answers (any account's), as Mastodon's in_reply_to_id; None: a top-level post.
    in_reply_to_id: str | None = None
    visibility: Visibility = "public"
    sensitive: bool = False


@dataclass
class _RememberedKey:
    post_id: str
    remembered_at: float


@dataclass
class CreationCounts:
    by_idempotency_key: Counter[str] = field(default_factory=Counter)
    by_post_id: Counter[str] = field(default_factory=Counter)
    by_text: Counter[str] = field(default_factory=Counter)


class PostStore:
    def __init__(self) -> None:
        self._posts: dict[str, Post] = {}
        self._media: dict[str, Media] = {}
        self._keys: dict[tuple[str, str], _RememberedKey] = {}
        self._counts = CreationCounts()
        self._lock = threading.Lock()

    def add_media(
        self, account_id: str, mime_type: str, size_bytes: int, sha256: str, alt_text: str = ""
    ) -> Media:
        media = Media("media_" + secrets.token_hex(8), account_id, mime_type, size_bytes, sha256, alt_text)
        with self._lock:
            self._media[media.id] = media
        return media

    def media_of(self, post: Post) -> list[Media]:
        with self._lock:
            return [self._media[media_id] for media_id in post.media_ids if media_id in self._media]

    def media_types(self, account_id: str, media_ids: list[str]) -> list[str]:
        with self._lock:
            found = [self._media.get(media_id) for media_id in media_ids]
        if any(media is None or media.account_id != account_id for media in found):
            raise SandboxError(422, "validation_failed", "unknown media id")
        return [media.mime_type for media in found if media is not None]

    def create(
        self,
        account_id: str,
        text: str,
        media_ids: list[str],
        idempotency_key: str | None,
        url_of: UrlOf,
        now: float,
        idempotency_window_s: float | None,
        in_reply_to_id: str | None = None,
        visibility: Visibility = "public",
        sensitive: bool = False,
    ) -> tuple[Post, bool]:
        """The post and whether it is new; a known key of the same account gives the first post."""
        with self._lock:
            replayed = self._replay(
                account_id, idempotency_key, text, in_reply_to_id, now, idempotency_window_s
            )
            if replayed is not None:
                return replayed, False
            if in_reply_to_id is not None and in_reply_to_id not in self._posts:
                raise SandboxError(422, "validation_failed", f"in_reply_to_id: no post {in_reply_to_id}")
            post_id = "post_" + secrets.token_hex(8)
            post = Post(
                post_id,
                account_id,
                text,
                list(media_ids),
                url_of(post_id),
                now,
                idempotency_key,
                in_reply_to_id=in_reply_to_id,
                visibility=visibility,
                sensitive=sensitive,
            )
            self._posts[post_id] = post
            if idempotency_key is not None:
                self._keys[(account_id, idempotency_key)] = _RememberedKey(post_id, now)
                self._counts.by_idempotency_key[idempotency_key] += 1
            self._counts.by_post_id[post_id] += 1
            self._counts.by_text[text] += 1
            return post, True

    def _replay(
        self,
        account_id: str,
        key: str | None,
        text: str,
        in_reply_to_id: str | None,
        now: float,
        window_s: float | None,
    ) -> Post | None:
        remembered = self._keys.get((account_id, key)) if key is not None else None
        if remembered is None:
            return None
        if window_s is not None and now - remembered.remembered_at > window_s:
            return None  # the platform forgot the key: a retry now creates a second post
        post = self._posts[remembered.post_id]
        if post.text != text or post.in_reply_to_id != in_reply_to_id:
            # As Stripe does: a key reused for a different request is a client bug, not a retry.
            raise SandboxError(
                422, "idempotency_key_reused", "this Idempotency-Key was used for another post"
            )
        return post

    def get(self, account_id: str, post_id: str) -> Post | None:
        with self._lock:
            post = self._posts.get(post_id)
        return post if post is not None and post.account_id == account_id else None

    def find(self, post_id: str) -> Post | None:
        with self._lock:
            return self._posts.get(post_id)

    def reply_chain(self, post: Post) -> list[Post]:
        """The posts this one answers, from the thread's first post down to its direct parent."""
        chain: list[Post] = []
        with self._lock:
            parent = self._posts.get(post.in_reply_to_id) if post.in_reply_to_id else None
            while parent is not None:  # no cycle: a parent exists before its replies
                chain.append(parent)
                parent = self._posts.get(parent.in_reply_to_id) if parent.in_reply_to_id else None
        return chain[::-1]

    def replies_to(self, post: Post) -> list[Post]:
        """The direct replies to this post, oldest first."""
        with self._lock:
            return [reply for reply in self._posts.values() if reply.in_reply_to_id == post.id]

    def recent(self, account_id: str, limit: int) -> list[Post]:
        with self._lock:
            own = [post for post in self._posts.values() if post.account_id == account_id]
        return own[::-1][:limit]  # the dict keeps creation order, so reversed is newest first

    def count_for(self, account_id: str) -> int:
        with self._lock:
            return sum(
                1
                for post in self._posts.values()
                if post.account_id == account_id and post.status == "published"
            )

    def set_status(self, post: Post, status: PostState, now: float) -> None:
        with self._lock:
            post.status = status
            post.deleted_at = now if status == "deleted" else None

    def counts(self) -> CreationCounts:
        with self._lock:
            return CreationCounts(
                Counter(self._counts.by_idempotency_key),
                Counter(self._counts.by_post_id),
                Counter(self._counts.by_text),
            )


class UrlOf:
    """Builds a post's public URL; the host is the one the client called."""

    def __init__(self, base_url: str, account_name: str) -> None:
        self._prefix = f"{base_url.rstrip('/')}/@{account_name}/posts/"

    def __call__(self, post_id: str) -> str:
        return self._prefix + post_id
