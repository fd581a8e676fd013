"""What a user asks for (validated shapes; also the HTTP request bodies)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from aligned_publishing.domain.content_fit import TargetDraft
from aligned_publishing.domain.feeds import FeedMode

OptionName = Annotated[str, Field(min_length=1, max_length=64)]
# Numbers are let through here so that the catalogue's check says "wrong_type" naming the option
# (the field as the platform declares it), rather than a type error of the JSON shape.
OptionIn = Annotated[str, Field(max_length=5000)] | bool | int | float


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str = Field(min_length=1, max_length=40)
    connection_id: uuid.UUID
    text: str | None = Field(
        default=None, max_length=100_000, description="This account's variant of the text"
    )
    media_ids: list[uuid.UUID] | None = Field(default=None, description="This account's variant of the media")
    alt_texts: dict[uuid.UUID, Annotated[str, Field(max_length=1500)]] | None = Field(
        default=None,
        max_length=20,
        description="This account's own alt text per media item (media_id -> text), instead of the item's",
    )
    first_comment: str | None = Field(
        default=None,
        max_length=100_000,
        description="This account's own first comment instead of the job's; an empty string: none here",
    )
    platform_options: dict[OptionName, OptionIn] | None = Field(
        default=None,
        max_length=30,
        description="Per-platform fields (YouTube title/privacy, TikTok privacy_level, Pinterest link, "
        "LinkedIn visibility...): the names, types and values the platform catalogue declares; an "
        "unknown name, a missing required one or a value the platform does not take is a 422 naming "
        "`targets[i].platform_options.<name>`",
        examples=[{"privacy_level": "SELF_ONLY", "disable_comment": True}],
    )

    def draft(self, job_first_comment: str | None = None) -> TargetDraft:
        """This account's draft; its first comment is its own, else the job's ("" is none)."""
        media = tuple(self.media_ids) if self.media_ids is not None else None
        comment = self.first_comment if self.first_comment is not None else job_first_comment
        return TargetDraft(
            self.platform,
            self.connection_id,
            self.text,
            media,
            self.alt_texts,
            comment or None,
            self.platform_options or None,  # {} is none: stored and hashed as a target without
        )


class CreateJob(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str = Field(max_length=100_000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    media_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    targets: list[TargetIn] = Field(min_length=1, max_length=50)
    requires_approval: bool = False
    scheduled_at: datetime | None = Field(
        default=None, description="ISO 8601 with an offset, or a local time together with time_zone"
    )
    time_zone: str | None = Field(default=None, examples=["Europe/Berlin"])
    max_retries: int | None = Field(default=None, ge=0, le=20)
    first_comment: str | None = Field(
        default=None,
        max_length=100_000,
        description="Published as a reply to each target's post right after it, where the platform "
        "can (the catalogue's first_comment capability; 422 otherwise); a target's own overrides it",
    )


class EditJob(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str | None = Field(default=None, max_length=100_000)
    tags: list[str] | None = Field(default=None, max_length=50)
    media_ids: list[uuid.UUID] | None = Field(default=None, max_length=20)
    targets: list[TargetIn] | None = Field(default=None, min_length=1, max_length=50)
    requires_approval: bool | None = None
    max_retries: int | None = Field(default=None, ge=0, le=20)
    first_comment: str | None = Field(
        default=None,
        max_length=100_000,
        description="Every target's first comment from now on (an empty string: none); a target's own overrides it",
    )


class ScheduleJob(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scheduled_at: datetime
    time_zone: str | None = None


class CancelJob(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


# -- RSS/Atom subscriptions (service_layer/feeds.py) -----------------------------------------
FEED_TEMPLATE_HELP = "the post's text for an entry: {title}, {link} and {summary} are replaced"


class Subscribe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, description="the feed (RSS or Atom), https")
    connection_ids: list[uuid.UUID] = Field(
        min_length=1, max_length=50, description="the accounts each entry's post goes to"
    )
    template: str = Field(default="{title} {link}", max_length=5000, description=FEED_TEMPLATE_HELP)
    mode: FeedMode = Field(
        default=FeedMode.DRAFT,
        description="draft: each entry becomes a draft; scheduled: a post submitted at once for "
        "schedule_after_s after the poll, through approval where the brand's policy says so",
    )
    schedule_after_s: int = Field(default=3600, ge=60, le=30 * 86400)
    interval_s: int | None = Field(
        default=None, ge=1, le=7 * 86400, description="seconds between polls (the service's default: none)"
    )
    post_existing: bool = Field(
        default=False,
        description="true: the entries already in the feed become posts too; false: only entries "
        "that appear after the first poll do (the others are listed as skipped)",
    )


class EditSubscription(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2000)
    connection_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=50)
    template: str | None = Field(default=None, max_length=5000, description=FEED_TEMPLATE_HELP)
    mode: FeedMode | None = None
    schedule_after_s: int | None = Field(default=None, ge=60, le=30 * 86400)
    interval_s: int | None = Field(default=None, ge=1, le=7 * 86400)
    paused: bool | None = Field(default=None, description="true: pause polling; false: resume (polled now)")
