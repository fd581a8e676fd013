"""Events owned by the publishing service (topic aligned.publishing.events)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from aligned_common.events.base import EventData


class ContentWarning(BaseModel):
    """Something an approver should know that does not stop the post (e.g. an image without alt text)."""

    code: str = Field(description="e.g. missing_alt_text")
    field: str = Field(description="What it is about, e.g. media[1].alt_text")
    media_id: uuid.UUID | None = None
    message: str
    rule: str | None = Field(default=None, description="a brand kit guardrail's id, e.g. banned_term:cheap")
    start: int | None = Field(default=None, description="where in the field's text (code points)")
    end: int | None = None


class TargetRef(BaseModel):
    target_id: uuid.UUID
    platform: str
    connection_id: uuid.UUID
    text: str | None = Field(
        default=None, description="What this account posts: its own variant or the job's text"
    )
    media_ids: list[uuid.UUID] = Field(default_factory=list, description="What this account posts, in order")
    first_comment: str | None = Field(
        default=None, description="Posted as a reply right after the post; approved with it"
    )
    platform_options: dict[str, str] = Field(
        default_factory=dict,
        description="This account's per-platform fields (a YouTube title, a TikTok privacy level); approved with it",
    )
    warnings: list[ContentWarning] = Field(
        default_factory=list, description="Shown to approvers; they do not block"
    )


class MediaRef(BaseModel):
    media_id: uuid.UUID
    url: str = Field(description="A short-lived presigned GET URL of the bytes on the object store")
    mime_type: str
    size_bytes: int = Field(ge=0)
    alt_text: str = Field(
        default="", description="The description screen readers read; empty when none was given"
    )


class JobCreated(EventData):
    event_type_name = "publishing.job_created"
    job_id: uuid.UUID
    author_id: str
    requires_approval: bool
    content: str
    targets: list[TargetRef]
    scheduled_at: AwareDatetime | None = None
    round: int = Field(default=1, ge=1, description="Approval round: a resubmission opens a new one")
    media_ids: list[uuid.UUID] = Field(default_factory=list)
    content_hash: str | None = Field(
        default=None,
        description="sha256 of what goes out (every target's text, media and account); "
        "an approval counts only for this hash",
    )
    approval_reason: str | None = Field(
        default=None, description="Why approval is required (policy or author)"
    )


class JobUpdated(EventData):
    event_type_name = "publishing.job_updated"
    job_id: uuid.UUID
    status: str
    content: str
    scheduled_at: AwareDatetime | None = None
    content_hash: str | None = None


class JobEdited(EventData):
    """What an edit (PATCH, schedule) changed, for the audit trail: each changed field's value
    before and after. The workflow events (job_updated, or job_created for a new round) follow."""

    event_type_name = "publishing.job_edited"
    job_id: uuid.UUID
    before: dict[str, Any] = Field(description="The changed fields' values before the edit")
    after: dict[str, Any] = Field(description="The same fields after it")


class ApprovalWaived(EventData):
    """Someone the policy allows (owner/admin by default) let a job that needed approval go
    out without it: for the audit trail. The waiver covers exactly this content_hash."""

    event_type_name = "publishing.approval_waived"
    job_id: uuid.UUID
    waived_by: str
    role: str
    content_hash: str
    reason: str = Field(description="Why approval was required before the waiver")


class JobCancelled(EventData):
    event_type_name = "publishing.job_cancelled"
    job_id: uuid.UUID
    reason: str | None = None


class ReplyRef(BaseModel):
    """The post an attempt answers: a first comment answers its post, a thread's part k the part before."""

    parent_remote_id: str = Field(min_length=1, description="The platform's id of the post replied to")
    root_remote_id: str = Field(
        min_length=1,
        description="The platform's id of the thread's first post (the parent for a direct reply)",
    )


class AttemptRequested(EventData):
    event_type_name = "publishing.attempt_requested"
    job_id: uuid.UUID
    target_id: uuid.UUID
    platform: str
    connection_id: uuid.UUID
    idempotency_key: str = Field(min_length=8, description="Stable for a job and target across retries")
    attempt: int = Field(ge=1)
    text: str
    media: list[MediaRef] = Field(default_factory=list)
    recheck: int = Field(
        default=0,
        ge=0,
        description="0 for a new attempt; n when the same attempt is re-requested after no answer",
    )
    platform_options: dict[str, str] = Field(
        default_factory=dict,
        description="Per-platform fields (YouTube title/privacy, LinkedIn visibility, TikTok privacy_level): "
        "the target's platform_options, checked against the platform catalogue; booleans as 'true'/'false'",
    )
    reply_to: ReplyRef | None = Field(
        default=None, description="Set when this attempt publishes a reply (a first comment, a thread part)"
    )


class TargetResult(BaseModel):
    target_id: uuid.UUID
    platform: str
    status: Literal["published", "failed", "held", "cancelled"]
    remote_id: str | None = None
    url: str | None = None
    error: str | None = None


class JobPublished(EventData):
    event_type_name = "publishing.job_published"
    job_id: uuid.UUID
    targets: list[TargetResult]


class JobPartiallyPublished(EventData):
    event_type_name = "publishing.job_partially_published"
    job_id: uuid.UUID
    targets: list[TargetResult]


class JobFailed(EventData):
    event_type_name = "publishing.job_failed"
    job_id: uuid.UUID
    reason: str
    targets: list[TargetResult] = Field(default_factory=list)


class TargetMissed(EventData):
    """A target was held (connection expired/revoked) past its window: reported, not posted late."""

    event_type_name = "publishing.target_missed"
    job_id: uuid.UUID
    target_id: uuid.UUID
    platform: str
    connection_id: uuid.UUID
    due_at: AwareDatetime
    reason: str
