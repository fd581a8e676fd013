"""A small preview of an image for lists and approvers (Pillow): at most 320 px on its longer
side, JPEG (PNG when the image has transparency), the orientation applied."""

from __future__ import annotations

import io
from typing import BinaryIO

from PIL import Image, ImageOps

SIDE = 320


def thumbnail(file: BinaryIO, mime_type: str | None) -> tuple[bytes, str] | None:
    """(bytes, type), or None for what is not a still image. Blocking: run it in a thread."""
    if not mime_type or not mime_type.startswith("image/"):
        return None
    file.seek(0)
    try:
        with Image.open(file) as image:
            image.draft("RGB", (SIDE, SIDE))  # JPEG: decode at a reduced scale, much faster
            small = ImageOps.exif_transpose(image)
            small.thumbnail((SIDE, SIDE))
            out = io.BytesIO()
            if (small.mode in ("RGBA", "LA", "P") and "transparency" in small.info) or small.mode in (
                "RGBA",
                "LA",
            ):
                small.save(out, "PNG", optimize=True)
                kind = "image/png"
            else:
                small.convert("RGB").save(out, "JPEG", quality=80)
                kind = "image/jpeg"
    except (OSError, ValueError):
        return None
    finally:
        file.seek(0)
    return out.getvalue(), kind
