"""Metadata out of images before they are stored: a client's location must not leak.

Lossless: the image data is copied byte for byte, only metadata containers are dropped.
- JPEG: APP1 (Exif, XMP), APP13 (IPTC / Photoshop) and COM segments go; when the Exif said the
  picture is rotated, a new Exif block with nothing but that orientation takes its place (so the
  picture still shows the right way up). JFIF, ICC colour profiles (APP2) and Adobe (APP14) stay.
- PNG: eXIf, tEXt, zTXt, iTXt and tIME chunks go; everything else stays.
Other types are stored as they came.
"""

from __future__ import annotations

import io
import struct
import tempfile
from typing import BinaryIO, cast

from PIL import Image

SPOOL = 1024 * 1024
CHUNK = 1024 * 1024
_JPEG_DROP = {0xE1, 0xED, 0xFE}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_DROP = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}
ORIENTATION = 0x0112


class NotScrubbable(Exception):
    """The file is not the well-formed container its magic says (the decoder check reports it)."""


def scrub(file: BinaryIO, mime_type: str | None) -> BinaryIO | None:
    """A new file without the metadata, or None when there was none to remove (or the type
    carries none we know of). Blocking: run it in a thread. Leaves `file` at 0."""
    file.seek(0)
    try:
        if mime_type == "image/jpeg":
            return _jpeg(file)
        if mime_type == "image/png":
            return _png(file)
    except (NotScrubbable, struct.error):
        return None
    finally:
        file.seek(0)
    return None


def _read(file: BinaryIO, n: int) -> bytes:
    data = file.read(n)
    if len(data) != n:
        raise NotScrubbable("truncated")
    return data


def _copy_rest(src: BinaryIO, dst: BinaryIO) -> None:
    while chunk := src.read(CHUNK):
        dst.write(chunk)


def _jpeg(file: BinaryIO) -> BinaryIO | None:
    if _read(file, 2) != b"\xff\xd8":
        raise NotScrubbable("no SOI")
    kept: list[bytes] = []
    dropped = False
    orientation = 1
    while True:
        marker = _read(file, 2)
        if marker[0] != 0xFF:
            raise NotScrubbable("not a marker")
        kind = marker[1]
        if kind == 0xDA or kind == 0xD9:  # start of scan / end: image data follows, copied as is
            break
        if kind == 0x01 or 0xD0 <= kind <= 0xD7:
            kept.append(marker)
            continue
        length = struct.unpack(">H", _read(file, 2))[0]
        body = _read(file, length - 2)
        if kind in _JPEG_DROP:
            dropped = True
            if kind == 0xE1 and body.startswith(b"Exif\x00\x00"):
                orientation = _orientation(body[6:]) or orientation
            continue
        kept.append(marker + struct.pack(">H", length) + body)
    if not dropped:
        return None
    out = cast(BinaryIO, tempfile.SpooledTemporaryFile(SPOOL))  # a binary file, as far as we use it
    out.write(b"\xff\xd8")
    if kept and kept[0][1] == 0xE0:  # JFIF must stay first
        out.write(kept.pop(0))
    if orientation != 1:
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        block = b"Exif\x00\x00" + exif.tobytes()
        out.write(b"\xff\xe1" + struct.pack(">H", len(block) + 2) + block)
    for segment in kept:
        out.write(segment)
    out.write(marker)
    _copy_rest(file, out)
    out.seek(0)
    return out


def _orientation(tiff: bytes) -> int | None:
    try:
        exif = Image.Exif()
        exif.load(tiff)
        value = exif.get(ORIENTATION)
    except Exception:
        return None
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def _png(file: BinaryIO) -> BinaryIO | None:
    if _read(file, 8) != _PNG_SIGNATURE:
        raise NotScrubbable("no signature")
    out = cast(BinaryIO, tempfile.SpooledTemporaryFile(SPOOL))  # a binary file, as far as we use it
    out.write(_PNG_SIGNATURE)
    dropped = False
    while True:
        header = file.read(8)
        if not header:
            break
        if len(header) != 8:
            raise NotScrubbable("truncated chunk")
        length, kind = struct.unpack(">I", header[:4])[0], header[4:]
        if kind in _PNG_DROP:
            dropped = True
            file.seek(length + 4, io.SEEK_CUR)
            continue
        out.write(header)
        remaining = length + 4  # data and CRC
        while remaining:
            chunk = file.read(min(CHUNK, remaining))
            if not chunk:
                raise NotScrubbable("truncated chunk")
            out.write(chunk)
            remaining -= len(chunk)
        if kind == b"IEND":
            break
    if not dropped:
        out.close()
        return None
    out.seek(0)
    return out
