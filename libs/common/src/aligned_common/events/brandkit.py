"""Events owned by the brandkit service (topic aligned.brandkit.events)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from aligned_common.events.base import EventData
from aligned_common.guardrails import NO_NUL, GuardrailRules


class KitAsset(BaseModel):
    media_id: uuid.UUID = Field(description="a media item of the brand (publishing's media library)")
    role: str = Field(min_length=1, max_length=50, pattern=NO_NUL, description="e.g. logo, colour, font")
    label: str = Field(default="", max_length=200, pattern=NO_NUL)


class BrandKit(GuardrailRules):
    """One version of a brand's kit: what people read (voice, examples, notes) and the rules
    every draft is checked against (the guardrail fields, aligned_common.guardrails)."""

    voice: str = Field(default="", max_length=10000, pattern=NO_NUL, description="voice and tone notes")
    example_posts: list[str] = Field(default_factory=list, max_length=50)
    hashtag_sets: dict[str, list[str]] = Field(
        default_factory=dict, max_length=50, description='name -> hashtags, e.g. {"launch": ["#new"]}'
    )
    default_first_comment: str | None = Field(default=None, max_length=5000, pattern=NO_NUL)
    colours: list[str] = Field(default_factory=list, max_length=50, description="e.g. #0a7cff")
    assets: list[KitAsset] = Field(default_factory=list, max_length=50)

    def rules(self) -> GuardrailRules:
        return GuardrailRules.model_validate(self.model_dump(include=set(GuardrailRules.model_fields)))


class KitVersionPublished(EventData):
    """A new version of the brand's kit is the current one (an update or a restore)."""

    event_type_name = "brandkit.version_published"
    kit_version: int = Field(ge=1)
    kit: BrandKit
    author_id: str
    created_at: datetime
    restored_from: int | None = Field(default=None, description="the version it copies, on a restore")
