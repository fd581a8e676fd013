"""What an upload really is, from its bytes (magic numbers), never from the client's claim.

`inspect` reads a spooled upload once, in chunks (never the whole file in memory): its size,
sha256, sniffed type, a video's duration and codec (pymediainfo, MediaArea's MediaInfo
library bundled in its wheels: ADR 0014), and whether an image decodes.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import BinaryIO

import filetype
from PIL import Image, UnidentifiedImageError
from pymediainfo import MediaInfo

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


# MediaInfo's format names -> FFmpeg's codec names, which the platform catalogue uses.
CODECS = {
    "AVC": "h264",
    "HEVC": "hevc",
    "VP8": "vp8",
    "VP9": "vp9",
    "AV1": "av1",
    "MPEG-4 Visual": "mpeg4",
    "ProRes": "prores",
}


def _video(file: BinaryIO) -> tuple[float | None, str | None]:
    """(duration in s, codec of the first video track): platforms cap a video's length and
    decode few codecs. Read from the container's headers by MediaInfo, no frame decoded."""
    try:
        info = MediaInfo.parse(file)
    except Exception:  # MediaInfo raises its own errors, and OSError/RuntimeError from the library
        return None, None
    general = next((t for t in info.tracks if t.track_type == "General"), None)
    video = next((t for t in info.tracks if t.track_type == "Video"), None)
    duration_ms = getattr(general, "duration", None) or getattr(video, "duration", None)
    codec = (
        CODECS.get(video.format, str(video.format).lower()) if video is not None and video.format else None
    )
    return (round(float(duration_ms) / 1000, 3) if duration_ms else None), codec


def _image_error(file: BinaryIO) -> str | None:
    """None when the image decodes completely; else what is wrong, in words."""
    try:
        with Image.open(file) as image:
            image.load()  # decodes every pixel: a truncated or garbled file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        return str(error) or type(error).__name__
    return None
