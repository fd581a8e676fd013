"""What a platform adapter offers for the engagement inbox, besides publishing: list the items
on and about the account (comments on its posts, mentions, reviews) and put a reply there.
A separate protocol, so adapters of platforms without these APIs need not say "not supported"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from aligned_common.events.engagement import PlatformItem


@dataclass(frozen=True)
class ReplyRequest:
    kind: Literal["comment", "review"]
    in_reply_to_id: str  # the platform's id of the comment or review answered
    remote_post_id: str | None  # the post the comment is on (comments)
    text: str
    idempotency_key: str


@dataclass(frozen=True)
class PostedReply:
    remote_id: str
    url: str | None = None


@runtime_checkable
class EngagementSource(Protocol):
    async def fetch_engagement(self, access_token: str) -> list[PlatformItem]: ...

    async def reply(self, access_token: str, request: ReplyRequest) -> PostedReply: ...
