"""What an upload really is, from its bytes (magic numbers), never from the client's claim.

`inspect` reads a spooled upload once, in chunks (never the whole file in memory): its size,
sha256, sniffed type, a video's duration and codec (PyAV, FFmpeg's demuxer: ADR 0011), and
whether an image decodes.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import BinaryIO

import av
import filetype
from PIL import Image, UnidentifiedImageError

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Sniffed:
    mime_type: str | None
    duration_s: float | None
    video_codec: str | None = None


@dataclass(frozen=True)
class Inspected:
    size_bytes: int  # max_bytes + 1 when the file is larger than max_bytes (reading stopped there)
    sha256: str
    mime_type: str | None
    duration_s: float | None
    image_error: str | None  # why an image does not decode, if it does not
    video_codec: str | None = None  # FFmpeg's name (h264, hevc, vp9...); None: not a video, or unreadable


def sniff(data: bytes) -> Sniffed:
    kind = filetype.guess(data[:8192])
    mime = kind.mime if kind else None
    duration, codec = _video(io.BytesIO(data)) if mime and mime.startswith("video/") else (None, None)
    return Sniffed(mime, duration, codec)


def inspect(file: BinaryIO, max_bytes: int) -> Inspected:
    """Blocking (file reads, hashing, decoding): run it in a thread. Leaves `file` at 0."""
    file.seek(0)
    digest = hashlib.sha256()
    head = b""
    size = 0
    while chunk := file.read(CHUNK):
        if len(head) < 8192:
            head += chunk[: 8192 - len(head)]
        size += len(chunk)
        if size > max_bytes:
            file.seek(0)
            return Inspected(max_bytes + 1, "", None, None, None)
        digest.update(chunk)
    kind = filetype.guess(head)
    mime = kind.mime if kind else None
    duration = image_error = codec = None
    if mime and mime.startswith("video/"):
        file.seek(0)
        duration, codec = _video(file)
    elif mime and mime.startswith("image/"):
        file.seek(0)
        image_error = _image_error(file)
    file.seek(0)
    return Inspected(size, digest.hexdigest(), mime, duration, image_error, codec)


def _video(file: BinaryIO) -> tuple[float | None, str | None]:
    """(duration in s, codec of the first video stream): platforms cap a video's length and
    decode few codecs. Read from the container's headers by FFmpeg's demuxer, no frame decoded."""
    try:
        with av.open(file, "r") as container:
            streams = container.streams.video
            codec = streams[0].codec_context.name if streams else None
            duration = container.duration / av.time_base if container.duration else None
    except (av.FFmpegError, ValueError, OSError):
        return None, None
    return (round(duration, 3) if duration else None), codec


def _image_error(file: BinaryIO) -> str | None:
    """None when the image decodes completely; else what is wrong, in words."""
    try:
        with Image.open(file) as image:
            image.load()  # decodes every pixel: a truncated or garbled file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        return str(error) or type(error).__name__
    return None
