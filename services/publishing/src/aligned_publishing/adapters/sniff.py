"""What an upload really is, from its bytes (magic numbers), never from the client's claim."""

from __future__ import annotations

import io
from dataclasses import dataclass

import filetype
import mutagen


@dataclass(frozen=True)
class Sniffed:
    mime_type: str | None
    duration_s: float | None


def sniff(data: bytes) -> Sniffed:
    kind = filetype.guess(data[:8192])
    mime = kind.mime if kind else None
    duration = _duration_s(data) if mime and mime.startswith("video/") else None
    return Sniffed(mime, duration)


def _duration_s(data: bytes) -> float | None:
    # Platforms cap video length; mutagen reads it from the container header (MP4 mvhd).
    try:
        parsed = mutagen.File(io.BytesIO(data))
    except Exception:
        return None
    length = getattr(getattr(parsed, "info", None), "length", None)
    return float(length) if length else None
