"""Check a post against a platform's limits before it is sent.

Publishing turns each violation into a 422 for the user, so a violation names the platform, the
field at fault and the limit it broke: enough to say what to change without reading our code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from aligned_common.platforms.catalogue import PlatformSpec, get_platform
from aligned_common.platforms.limits import ContentLimits, MediaGroup, MediaLimits, TextLimits
from aligned_common.platforms.media import MediaInfo
from aligned_common.platforms.text_length import measure_text

Limit = int | float | list[str]


class ViolationCode(StrEnum):
    EMPTY_POST = "empty_post"
    TEXT_TOO_LONG = "text_too_long"
    TEXT_TOO_MANY_BYTES = "text_too_many_bytes"
    TOO_MANY_MEDIA = "too_many_media"
    TOO_MANY_OF_KIND = "too_many_of_kind"
    MIXED_MEDIA = "mixed_media"
    MEDIA_TYPE_NOT_ALLOWED = "media_type_not_allowed"
    MEDIA_TOO_LARGE = "media_too_large"
    MEDIA_TOO_LONG = "media_too_long"
    VIDEO_CODEC_NOT_ALLOWED = "video_codec_not_allowed"
    MEDIA_REQUIRED = "media_required"


class ContentViolation(BaseModel):
    model_config = ConfigDict(frozen=True)

    platform: str
    field: str  # "text", "media" or "media[2].size_bytes"
    code: ViolationCode
    limit: Limit | None = None
    actual: int | float | str | None = None
    message: str


def check_content(
    platform: str | PlatformSpec, text: str, media: Sequence[MediaInfo] = ()
) -> list[ContentViolation]:
    """Every way `text` and `media` break the platform's limits; empty when the post may be sent.

    Raises UnknownPlatform for a name the catalogue does not know.
    """
    spec = platform if isinstance(platform, PlatformSpec) else get_platform(platform)
    limits: ContentLimits = spec.limits
    problems = [
        *_empty_post(limits, text, media),
        *_text_problems(limits.text, text),
        *_media_problems(limits.media, media),
    ]
    return [problem.on(spec.name) for problem in problems]


@dataclass(frozen=True)
class _Problem:
    """A violation before check_content names the platform, so the rules need not carry it."""

    field: str
    code: ViolationCode
    message: str
    limit: Limit | None = None
    actual: int | float | str | None = None

    def on(self, platform: str) -> ContentViolation:
        return ContentViolation(
            platform=platform,
            field=self.field,
            code=self.code,
            limit=self.limit,
            actual=self.actual,
            message=self.message,
        )


def _empty_post(limits: ContentLimits, text: str, media: Sequence[MediaInfo]) -> Iterator[_Problem]:
    if limits.requires_text_or_media and not text.strip() and not media:
        yield _Problem("text", ViolationCode.EMPTY_POST, "a post needs text or media")
    elif limits.requires_media and not media:
        yield _Problem("media", ViolationCode.MEDIA_REQUIRED, "a post here needs an image or a video")


def _text_problems(limits: TextLimits, text: str) -> Iterator[_Problem]:
    length = measure_text(text, limits.counting)
    if length > limits.max_length:
        yield _Problem(
            "text",
            ViolationCode.TEXT_TOO_LONG,
            f"text is {length} long, counted as {limits.counting.value}; the limit is {limits.max_length}",
            limit=limits.max_length,
            actual=length,
        )
    size = len(text.encode("utf-8"))
    if limits.max_utf8_bytes is not None and size > limits.max_utf8_bytes:
        yield _Problem(
            "text",
            ViolationCode.TEXT_TOO_MANY_BYTES,
            f"text is {size} bytes in UTF-8; the limit is {limits.max_utf8_bytes}",
            limit=limits.max_utf8_bytes,
            actual=size,
        )


def _media_problems(limits: MediaLimits, media: Sequence[MediaInfo]) -> Iterator[_Problem]:
    if len(media) > limits.max_items:
        yield _Problem(
            "media",
            ViolationCode.TOO_MANY_MEDIA,
            f"{len(media)} attachments; the limit is {limits.max_items}",
            limit=limits.max_items,
            actual=len(media),
        )
    groups: list[MediaGroup] = []
    for index, item in enumerate(media):
        group = limits.group_of(item.mime_type)
        if group is None:
            yield _Problem(
                f"media[{index}].mime_type",
                ViolationCode.MEDIA_TYPE_NOT_ALLOWED,
                f"{item.mime_type} is not accepted",
                limit=limits.allowed_mime_types,
                actual=item.mime_type,
            )
            continue
        groups.append(group)
        yield from _item_problems(index, item, group)
    yield from _composition_problems(limits, groups)


def _item_problems(index: int, item: MediaInfo, group: MediaGroup) -> Iterator[_Problem]:
    if item.size_bytes > group.max_bytes:
        yield _Problem(
            f"media[{index}].size_bytes",
            ViolationCode.MEDIA_TOO_LARGE,
            f"{group.name} of {item.size_bytes} bytes; the limit is {group.max_bytes}",
            limit=group.max_bytes,
            actual=item.size_bytes,
        )
    limit_s, duration_s = group.max_duration_s, item.duration_s
    if limit_s is not None and duration_s is not None and duration_s > limit_s:
        yield _Problem(
            f"media[{index}].duration_s",
            ViolationCode.MEDIA_TOO_LONG,
            f"{group.name} of {item.duration_s} s; the limit is {group.max_duration_s} s",
            limit=group.max_duration_s,
            actual=item.duration_s,
        )
    codecs, codec = group.video_codecs, item.video_codec
    if codecs is not None and codec is not None and codec not in codecs:
        yield _Problem(
            f"media[{index}].video_codec",
            ViolationCode.VIDEO_CODEC_NOT_ALLOWED,
            f"{group.name} encoded as {codec}; accepted: {', '.join(sorted(codecs))}",
            limit=sorted(codecs),
            actual=codec,
        )


def _composition_problems(limits: MediaLimits, groups: list[MediaGroup]) -> Iterator[_Problem]:
    per_group = Counter(group.name for group in groups)
    if len(per_group) > 1 and not limits.mixed_groups_allowed:
        yield _Problem(
            "media",
            ViolationCode.MIXED_MEDIA,
            f"a post takes one kind of media, got {', '.join(sorted(per_group))}",
            actual=", ".join(sorted(per_group)),
        )
    for group in {group.name: group for group in groups}.values():
        # A group limit as loose as the overall one adds nothing to a too_many_media violation.
        stricter_than_overall = group.max_per_post < limits.max_items
        if stricter_than_overall and per_group[group.name] > group.max_per_post:
            yield _Problem(
                "media",
                ViolationCode.TOO_MANY_OF_KIND,
                f"{per_group[group.name]} {group.name} attachments; the limit is {group.max_per_post}",
                limit=group.max_per_post,
                actual=per_group[group.name],
            )
