"""What publishing does to a file before it is stored: what it is, whether it decodes, which
metadata goes, the preview. Pure (files in memory), no store."""

import hashlib
import io

import pytest
from aligned_common.testing.media import corrupt_png, jpeg, jpeg_with_location, mp4, png, png_with_text
from aligned_publishing.adapters.object_store import key_of_reference
from aligned_publishing.adapters.sniff import inspect
from aligned_publishing.adapters.scrub import scrub
from aligned_publishing.adapters.thumbnail import thumbnail
from PIL import ExifTags, Image

pytestmark = pytest.mark.unit


def test_inspect_reads_size_hash_type_and_duration_and_stops_past_the_limit():
    video = mp4(100_000, duration_s=7.5)
    found = inspect(io.BytesIO(video), max_bytes=100_000)
    assert (found.size_bytes, found.sha256, found.mime_type, found.duration_s, found.image_error) == (
        100_000, hashlib.sha256(video).hexdigest(), "video/mp4", 7.5, None)
    assert inspect(io.BytesIO(video), max_bytes=99_999).size_bytes == 100_000  # max + 1: too large
    assert inspect(io.BytesIO(corrupt_png()), 10**6).image_error is not None
    assert inspect(io.BytesIO(png(5000)), 10**6).image_error is None


def test_scrub_keeps_only_the_orientation_of_a_jpeg_and_every_pixel():
    photo = jpeg_with_location(orientation=8)
    clean = scrub(io.BytesIO(photo), "image/jpeg").read()
    exif = Image.open(io.BytesIO(clean)).getexif()
    assert dict(exif) == {ExifTags.Base.Orientation: 8} and exif.get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert b"Phone Maker" in photo and b"Phone Maker" not in clean
    assert Image.open(io.BytesIO(clean)).tobytes() == Image.open(io.BytesIO(photo)).tobytes()


def test_scrub_drops_png_text_chunks_and_leaves_clean_files_alone():
    assert b"Location" not in scrub(io.BytesIO(png_with_text()), "image/png").read()
    assert scrub(io.BytesIO(png(5000)), "image/png") is None
    assert scrub(io.BytesIO(jpeg()), "image/jpeg") is None
    assert scrub(io.BytesIO(mp4(1000)), "video/mp4") is None
    assert scrub(io.BytesIO(corrupt_png()[:40]), "image/png") is None, "a broken file is the decoder check's"


def test_a_preview_is_at_most_320_pixels_and_upright():
    preview, kind = thumbnail(io.BytesIO(jpeg(1000, 500)), "image/jpeg")
    assert kind == "image/jpeg" and Image.open(io.BytesIO(preview)).size == (320, 160)
    rotated, _ = thumbnail(io.BytesIO(jpeg_with_location(64, 48, orientation=6)), "image/jpeg")
    assert Image.open(io.BytesIO(rotated)).size == (48, 64), "orientation 6 turns it upright"
    assert thumbnail(io.BytesIO(mp4(1000)), "video/mp4") is None


def test_references_name_the_key():
    assert key_of_reference("s3://aligned-media/b/m") == "b/m"
    assert key_of_reference("media://b/sha") == "b/sha"  # rows from before the object store
