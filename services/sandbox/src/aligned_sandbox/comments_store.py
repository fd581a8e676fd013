"""The sandbox's comments, mentions and reviews, and the one shape (`comment_item`,
`review_item`) in which its webhooks and its API show them (routes: aligned_sandbox.comments)."""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from aligned_sandbox.clock import to_datetime
from aligned_sandbox.errors import SandboxError

CommentKind = Literal["comment", "reply", "mention"]


@dataclass
class Comment:
    id: str
    account_id: str  # the account the comment is on (its post's) or about (a mention)
    post_id: str | None
    kind: CommentKind
    author_id: str
    author_name: str
    text: str
    language: str | None
    parent_id: str | None
    created_at: float
    edited_at: float | None = None
    deleted: bool = False


@dataclass
class Review:
    id: str
    account_id: str
    reviewer_name: str
    rating: int
    text: str
    language: str | None
    created_at: float
    reply_text: str | None = None
    replied_at: float | None = None


class EngagementStore:
    def __init__(self) -> None:
        self._comments: dict[str, Comment] = {}
        self._reviews: dict[str, Review] = {}
        self._replies_by_key: dict[tuple[str, str], str] = {}
        self._reply_counts: Counter[str] = Counter()  # comment or review id -> replies made to it
        self._lock = threading.Lock()

    def add_comment(self, comment: Comment) -> Comment:
        with self._lock:
            self._comments[comment.id] = comment
        return comment

    def reply(
        self, account_id: str, post_id: str, parent_id: str, text: str, key: str | None, now: float
    ) -> tuple[Comment, bool]:
        """The account's reply, and whether it is new (a repeated Idempotency-Key: the first one)."""
        with self._lock:
            parent = self._comments.get(parent_id)
            if parent is None or parent.post_id != post_id or parent.deleted:
                raise SandboxError(404, "not_found", f"no comment {parent_id} on post {post_id}")
            if key is not None and (account_id, key) in self._replies_by_key:
                return self._comments[self._replies_by_key[(account_id, key)]], False
            comment = Comment(
                id="c_" + secrets.token_hex(8),
                account_id=parent.account_id,
                post_id=post_id,
                kind="reply",
                author_id=account_id,
                author_name="",
                text=text,
                language=None,
                parent_id=parent_id,
                created_at=now,
            )
            self._comments[comment.id] = comment
            self._reply_counts[parent_id] += 1
            if key is not None:
                self._replies_by_key[(account_id, key)] = comment.id
            return comment, True

    def get(self, comment_id: str) -> Comment | None:
        return self._comments.get(comment_id)

    def about(self, account_id: str) -> list[Comment]:
        with self._lock:
            return [c for c in self._comments.values() if c.account_id == account_id]

    def on_post(self, post_id: str) -> list[Comment]:
        with self._lock:
            return [c for c in self._comments.values() if c.post_id == post_id]

    def add_review(self, review: Review) -> Review:
        with self._lock:
            self._reviews[review.id] = review
        return review

    def reviews_of(self, account_id: str) -> list[Review]:
        with self._lock:
            return [r for r in self._reviews.values() if r.account_id == account_id]

    def reply_to_review(self, account_id: str, review_id: str, text: str, now: float) -> Review:
        """A review has one reply (Google Business Profile's rule): replying again replaces it."""
        with self._lock:
            review = self._reviews.get(review_id)
            if review is None or review.account_id != account_id:
                raise SandboxError(404, "not_found", f"no review {review_id} for this account")
            review.reply_text, review.replied_at = text, now
            self._reply_counts[review_id] += 1
            return review

    def reply_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._reply_counts)


def comment_item(comment: Comment) -> dict[str, Any]:
    return {
        "kind": comment.kind,
        "platform_item_id": comment.id,
        "account_id": comment.account_id,
        "remote_post_id": comment.post_id,
        "parent_id": comment.parent_id,
        "author_id": comment.author_id,
        "author_name": comment.author_name,
        "text": "" if comment.deleted else comment.text,
        "language": comment.language,
        "created_at": to_datetime(comment.created_at).isoformat(),
        "edited_at": to_datetime(comment.edited_at).isoformat() if comment.edited_at else None,
        "deleted": comment.deleted,
    }


def review_item(review: Review) -> dict[str, Any]:
    return {
        "kind": "review",
        "platform_item_id": review.id,
        "account_id": review.account_id,
        "author_id": "reviewer_" + review.id,
        "author_name": review.reviewer_name,
        "text": review.text,
        "rating": review.rating,
        "language": review.language,
        "created_at": to_datetime(review.created_at).isoformat(),
        "reply": review.reply_text,
    }
