"""What the catalogue needs to know about one media attachment to check it against a platform."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MediaInfo(BaseModel):
    """Facts about an attachment, measured once by whoever stores the media (no bytes here)."""

    model_config = ConfigDict(frozen=True)

    mime_type: str = Field(description="IANA media type, e.g. image/jpeg")
    size_bytes: int = Field(ge=0)
    # None when unknown or not a time-based medium; a duration limit is then not checked.
    duration_s: float | None = Field(default=None, ge=0)
    # FFmpeg's name of a video's codec (h264, hevc, vp9...); None when unknown: then not checked.
    video_codec: str | None = None
