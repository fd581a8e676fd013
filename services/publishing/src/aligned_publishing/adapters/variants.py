"""Platform-fit variants of an image (Pillow), made once on upload.

For every platform in the catalogue that takes the image's type, the image is checked against
that platform's image limits: an aspect ratio outside what it shows uncropped (e.g. wider than
1.91:1) and a byte size above its limit (X: 5 MB). Where the original breaks one, a variant is
made that fits: centred crop to the nearest allowed ratio, re-encoded in the same format, and
scaled down until it is under the byte limit. A platform whose limits the original meets gets
the original; platforms that need the same fit share one variant.

Animated images are left alone (a crop of one frame would lose the animation); the content
check refuses them where they do not fit. Variants carry no metadata (Pillow writes none
unless told), and the orientation is applied, so they show the right way up without Exif.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import BinaryIO

import orjson
from PIL import Image, ImageOps

from aligned_common.platforms import PLATFORMS

FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
MAX_SHRINKS = 12


@dataclass(frozen=True)
class Fit:
    data: bytes
    mime_type: str
    width: int
    height: int
    platforms: tuple[str, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def fit_variants(file: BinaryIO, mime_type: str | None, size_bytes: int) -> list[Fit]:
    """The variants some platform needs; empty when the original fits everywhere (or is not a
    still image we re-encode). Blocking: run it in a thread. Leaves `file` at 0."""
    if mime_type not in FORMATS:
        return []
    file.seek(0)
    try:
        with Image.open(file) as opened:
            if getattr(opened, "n_frames", 1) > 1:
                return []
            image = ImageOps.exif_transpose(opened)
            image.load()
    except (OSError, ValueError):
        return []
    finally:
        file.seek(0)
    wanted: dict[tuple[tuple[int, int, int, int], int], list[str]] = {}
    for spec in PLATFORMS.values():
        group = spec.limits.media.group_of(mime_type)
        if group is None:
            continue
        box = crop_box(image.width, image.height, group.min_aspect_ratio, group.max_aspect_ratio)
        if box is None and size_bytes <= group.max_bytes:
            continue
        wanted.setdefault((box or (0, 0, image.width, image.height), group.max_bytes), []).append(spec.name)
    return [
        _fit(image, mime_type, box, max_bytes, tuple(names)) for (box, max_bytes), names in wanted.items()
    ]


def crop_box(
    width: int, height: int, min_ratio: float | None, max_ratio: float | None
) -> tuple[int, int, int, int] | None:
    """The centred crop that brings width/height into [min_ratio, max_ratio]; None if it is."""
    ratio = width / height
    if max_ratio is not None and ratio > max_ratio:
        kept = max(1, math.floor(height * max_ratio))
        left = (width - kept) // 2
        return left, 0, left + kept, height
    if min_ratio is not None and ratio < min_ratio:
        kept = max(1, math.floor(width / min_ratio))
        top = (height - kept) // 2
        return 0, top, width, top + kept
    return None


def _fit(
    image: Image.Image, mime_type: str, box: tuple[int, int, int, int], max_bytes: int, platforms
) -> Fit:
    fitted = image.crop(box) if box != (0, 0, image.width, image.height) else image
    data = _encode(fitted, mime_type)
    for _ in range(MAX_SHRINKS):
        if len(data) <= max_bytes:
            break
        # Bytes grow about with the pixel count: shrink both sides by the square root, a bit more.
        scale = math.sqrt(max_bytes / len(data)) * 0.95
        fitted = fitted.resize(
            (max(1, int(fitted.width * scale)), max(1, int(fitted.height * scale))), Image.Resampling.LANCZOS
        )
        data = _encode(fitted, mime_type)
    return Fit(data, mime_type, fitted.width, fitted.height, platforms)


def _encode(image: Image.Image, mime_type: str) -> bytes:
    out = io.BytesIO()
    kind = FORMATS[mime_type]
    if kind == "JPEG":
        image.convert("RGB").save(out, kind, quality=90)
    elif kind == "WEBP":
        image.save(out, kind, quality=90)
    else:
        image.save(out, kind, optimize=True)
    return out.getvalue()


def variants_of(asset: Mapping) -> dict[str, dict]:
    """A media_assets row's variants: platform -> {key, url, mime_type, size_bytes, sha256, width,
    height}. The jsonb arrives as text (the pool has no codec for it)."""
    variants = asset["variants"]
    return orjson.loads(variants) if isinstance(variants, str) else dict(variants or {})
