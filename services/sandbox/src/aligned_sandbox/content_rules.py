"""What the sandbox platform accepts in a post; kept equal to the sandbox entry of the catalogue in
aligned_common.platforms (written out again here because the sandbox stands for the outside world)."""

from __future__ import annotations

from collections.abc import Sequence

from aligned_sandbox.errors import SandboxError

MAX_TEXT_CHARS = 1000
MAX_MEDIA_PER_POST = 4
IMAGE_TYPES = {
    "image/jpeg": 8 * 1024 * 1024,
    "image/png": 8 * 1024 * 1024,
    "image/gif": 8 * 1024 * 1024,
    "image/webp": 8 * 1024 * 1024,
}
VIDEO_TYPES = {"video/mp4": 64 * 1024 * 1024, "video/quicktime": 64 * 1024 * 1024}
MAX_BYTES_BY_TYPE = IMAGE_TYPES | VIDEO_TYPES


def validation_failed(description: str) -> SandboxError:
    return SandboxError(422, "validation_failed", description)


def check_upload(mime_type: str, size_bytes: int) -> None:
    limit = MAX_BYTES_BY_TYPE.get(mime_type)
    if limit is None:
        raise validation_failed(f"media type {mime_type or '(none)'} is not supported")
    if size_bytes == 0:
        raise validation_failed("media file is empty")
    if size_bytes > limit:
        raise validation_failed(f"media file of {size_bytes} bytes exceeds {limit}")


def check_post(text: str, media_types: Sequence[str]) -> None:
    if not text.strip() and not media_types:
        raise validation_failed("a post needs text or media")
    if len(text) > MAX_TEXT_CHARS:
        raise validation_failed(f"text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
    if len(media_types) > MAX_MEDIA_PER_POST:
        raise validation_failed(f"{len(media_types)} attachments; the limit is {MAX_MEDIA_PER_POST}")
    videos = sum(1 for mime_type in media_types if mime_type in VIDEO_TYPES)
    if videos and len(media_types) > 1:
        raise validation_failed("a video must be the only attachment of a post")
