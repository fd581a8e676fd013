"""Real media files of an exact size, for tests: valid PNG and JPEG images (Pillow) and real
MP4 videos (PyAV: H.264 or another codec). Every call gives different bytes."""

from __future__ import annotations

import io
import os
import struct
import zlib


def png(size: int, width: int = 8, height: int = 8) -> bytes:
    """A valid PNG of exactly `size` bytes: a small image, padded with a private ancillary
    chunk (which decoders skip) holding random bytes."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), tuple(os.urandom(3))).save(out, "PNG")
    image = out.getvalue()
    iend = image.rindex(b"IEND") - 4
    pad = size - len(image) - 12
    if pad < 0:
        raise ValueError(f"a PNG of this image needs at least {len(image) + 12} bytes")
    filler = os.urandom(pad)
    chunk = struct.pack(">I", pad) + b"prVt" + filler + struct.pack(">I", zlib.crc32(b"prVt" + filler))
    return image[:iend] + chunk + image[iend:]


def jpeg(width: int = 64, height: int = 48) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, "JPEG", quality=90)
    return out.getvalue()


def jpeg_with_location(width: int = 64, height: int = 48, orientation: int = 6) -> bytes:
    """A JPEG whose Exif says where it was taken (GPS), with which camera, and how it is rotated."""
    from PIL import ExifTags, Image

    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Phone Maker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 31.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (13.0, 24.0, 36.0)
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(
        out, "JPEG", exif=exif, quality=90
    )
    return out.getvalue()


def png_with_text(size: int = 6000) -> bytes:
    """A PNG carrying a tEXt chunk (e.g. a location an editor wrote into it)."""
    good = png(size)
    payload = b"Location\x0052.5200 N, 13.4050 E"
    chunk = (
        struct.pack(">I", len(payload)) + b"tEXt" + payload + struct.pack(">I", zlib.crc32(b"tEXt" + payload))
    )
    return good[:33] + chunk + good[33:]


def corrupt_png(size: int = 4096) -> bytes:
    """PNG magic and header, then garbage: sniffs as image/png, does not decode."""
    good = png(size)
    return good[:33] + os.urandom(size - 33)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(size: int, duration_s: float = 3.0, codec: str = "libx264") -> bytes:
    """A playable MP4 of exactly `size` bytes (made with PyAV, a development dependency):
    `duration_s` of a tiny video at 10 frames/s in `codec` (an FFmpeg encoder: libx264,
    mpeg4, ...), then a top-level `free` box of random bytes that players and demuxers skip."""
    import av
    from av.video.stream import VideoStream

    out = io.BytesIO()
    shade = os.urandom(1)[0]
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream(codec, rate=10)
        assert isinstance(stream, VideoStream), codec  # a video encoder was asked for
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for index in range(round(duration_s * 10)):
            frame = av.VideoFrame(64, 64, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([(shade + index * 3) % 256]) * plane.buffer_size)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    video = out.getvalue()
    pad = size - len(video) - 8
    if pad < 0:
        raise ValueError(f"this MP4 needs at least {len(video) + 8} bytes")
    return video + _box(b"free", os.urandom(pad))
