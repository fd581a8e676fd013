"""What publishing does to a file before it is stored: what it is, whether it decodes, which
metadata goes, the preview. Pure (files in memory), no store."""

import hashlib
import io

import pytest
from PIL import ExifTags, Image

from aligned_publishing.adapters.object_store import key_of_reference
from aligned_publishing.adapters.scrub import scrub
from aligned_publishing.adapters.sniff import inspect
from aligned_publishing.adapters.thumbnail import thumbnail
from aligned_publishing.adapters.variants import crop_box, fit_variants
from aligned_testing.media import corrupt_png, jpeg, jpeg_with_location, mp4, png, png_with_text

pytestmark = pytest.mark.unit


def test_inspect_reads_size_hash_type_and_duration_and_stops_past_the_limit():
    video = mp4(100_000, duration_s=7.5)
    found = inspect(io.BytesIO(video), max_bytes=100_000)
    assert (found.size_bytes, found.sha256, found.mime_type, found.duration_s, found.image_error) == (
        100_000,
        hashlib.sha256(video).hexdigest(),
        "video/mp4",
        7.5,
        None,
    )
    assert found.video_codec == "h264"
    assert inspect(io.BytesIO(mp4(20_000, codec="mpeg4")), 10**6).video_codec == "mpeg4"
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
    assert scrub(io.BytesIO(mp4(10_000)), "video/mp4") is None
    assert scrub(io.BytesIO(corrupt_png()[:40]), "image/png") is None, "a broken file is the decoder check's"


def test_a_preview_is_at_most_320_pixels_and_upright():
    preview, kind = thumbnail(io.BytesIO(jpeg(1000, 500)), "image/jpeg")
    assert kind == "image/jpeg" and Image.open(io.BytesIO(preview)).size == (320, 160)
    rotated, _ = thumbnail(io.BytesIO(jpeg_with_location(64, 48, orientation=6)), "image/jpeg")
    assert Image.open(io.BytesIO(rotated)).size == (48, 64), "orientation 6 turns it upright"
    assert thumbnail(io.BytesIO(mp4(10_000)), "video/mp4") is None


def test_references_name_the_key():
    assert key_of_reference("s3://aligned-media/b/m") == "b/m"
    assert key_of_reference("media://b/sha") == "b/sha"  # rows from before the object store


def test_crop_box_brings_the_ratio_into_the_range_centred():
    assert crop_box(400, 100, 9 / 16, 1.91) == (104, 0, 295, 100)
    assert crop_box(100, 400, 9 / 16, 1.91) == (0, 111, 100, 288)
    assert crop_box(100, 100, 9 / 16, 1.91) is None and crop_box(400, 100, None, None) is None


def test_variants_are_made_only_for_the_platforms_an_image_does_not_fit():
    square, wide = png(5000, 100, 100), png(5000, 400, 100)
    assert fit_variants(io.BytesIO(square), "image/png", len(square)) == []
    (fit,) = fit_variants(io.BytesIO(wide), "image/png", len(wide))
    assert fit.platforms == ("sandbox",) and (fit.width, fit.height) == (191, 100)
    assert Image.open(io.BytesIO(fit.data)).size == (191, 100)


def test_a_variant_over_a_byte_limit_is_scaled_down_under_it_without_metadata():
    photo = jpeg_with_location(1600, 1200)  # random pixels: over Bluesky's 1 MB
    fits = {
        name: fit
        for fit in fit_variants(io.BytesIO(photo), "image/jpeg", len(photo))
        for name in fit.platforms
    }
    # Bluesky (1 MB) needs a variant; platforms added since may too (each fitted under its own limit).
    assert "bluesky" in fits and len(fits["bluesky"].data) <= 1_000_000
    fitted = Image.open(io.BytesIO(fits["bluesky"].data))
    assert fitted.width < 1200 and fitted.height < 1600, "smaller, and turned upright (orientation 6)"
    assert fitted.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
