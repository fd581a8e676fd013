"""The shape of a platform's content limits: plain data, so it can also be served to a UI."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class TextCounting(StrEnum):
    """How a platform measures the length of a post's text; see text_length.py."""

    CODE_POINTS = "code_points"
    GRAPHEMES = "graphemes"
    # Graphemes, with every URL counting 23 and a remote mention counting as its local part.
    MASTODON = "mastodon"
    # twitter-text v3: weighted code points, URLs 23, an emoji sequence 2.
    TWITTER_WEIGHTED = "twitter_weighted"


class TextLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_length: int = Field(gt=0, description="in the units of `counting`")
    counting: TextCounting
    # Some platforms also cap the encoded size (Bluesky: 3000 UTF-8 bytes besides 300 graphemes).
    max_utf8_bytes: int | None = None


class MediaGroup(BaseModel):
    """Attachments a platform treats alike (images, GIFs, videos), with their limits."""

    model_config = ConfigDict(frozen=True)

    name: str
    mime_types: frozenset[str]
    max_bytes: int = Field(gt=0)
    max_per_post: int = Field(gt=0)
    max_duration_s: float | None = None
    # Width / height a platform shows without cropping (images); None: any. Publishing fits an
    # image outside the range into it (a centred crop) and sends the platform that variant.
    min_aspect_ratio: float | None = Field(default=None, gt=0)
    max_aspect_ratio: float | None = Field(default=None, gt=0)
    # Video codecs (FFmpeg's names: h264, hevc, vp9, av1) the platform decodes; None: any.
    video_codecs: frozenset[str] | None = None


class MediaLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_items: int = Field(ge=0)
    # False where a post carries one kind only (e.g. up to 4 images, or 1 video, never both).
    mixed_groups_allowed: bool
    groups: tuple[MediaGroup, ...]
    # The longest alt text (description for screen readers) a media item may carry; None where
    # the platform takes none. Where it takes one, an item without it is a warning to approvers.
    max_alt_text: int | None = None

    def group_of(self, mime_type: str) -> MediaGroup | None:
        normalized = mime_type.split(";", 1)[0].strip().lower()
        return next((group for group in self.groups if normalized in group.mime_types), None)

    @property
    def allowed_mime_types(self) -> list[str]:
        return sorted(mime for group in self.groups for mime in group.mime_types)


class ContentLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: TextLimits
    media: MediaLimits
    # Mastodon and X refuse a post with neither text nor media; Bluesky needs text or an embed too.
    requires_text_or_media: bool = True
    # Platforms that publish media only (YouTube, TikTok, Instagram, Pinterest): a post
    # without any is refused at create time.
    requires_media: bool = False
