"""Media: sniffed types, per-brand dedupe, a quota that concurrent uploads cannot overshoot,
and the object store (the real s3proxy of the `infra` fixture) always agreeing with the rows."""

import asyncio
import hashlib
import io
import uuid
from datetime import timedelta

import httpx
import pytest

from aligned_publishing.service_layer.media import purge_deleted_media
from aligned_testing.media import corrupt_png, jpeg, mp4, png
from aligned_testing.publishing import Brand, MovableClock, job_body, make_settings, publishing_service

pytestmark = pytest.mark.integration


async def _upload(client, brand, data: bytes, name="photo.png", content_type="image/png"):
    return await client.post("/v1/media", headers=brand.headers, files={"file": (name, data, content_type)})


def _deps(svc):
    return svc.ctx.deps


async def _objects(svc, brand) -> list[str]:
    """The keys the store holds under the brand's prefix (directories of s3proxy's filesystem
    backend are listed as keys ending in '/': not objects)."""
    store = _deps(svc).storage
    listed = await store._client.list_objects_v2(Bucket=store.bucket, Prefix=f"{brand.brand_id}/")
    return sorted(o["Key"] for o in listed.get("Contents", []) if not o["Key"].endswith("/"))


async def _rows(svc, brand) -> int:
    deps = _deps(svc)
    return await deps.pool.fetchval(
        f'SELECT count(*) FROM "{deps.schema}".media_assets WHERE brand_id = $1', brand.brand_id
    )


@pytest.fixture
async def tiny_quota_svc(infra, topics, scratch_schema):
    settings = make_settings(default_quota_bytes=1000)
    async with publishing_service(infra, scratch_schema, settings, MovableClock()) as running:
        yield running


async def test_two_concurrent_uploads_over_the_quota_one_is_refused_and_usage_is_exact(
    tiny_quota_svc, producer
):
    brand = Brand(producer)
    async with tiny_quota_svc.client() as client:
        responses = await asyncio.gather(_upload(client, brand, png(600)), _upload(client, brand, png(600)))
        assert sorted(r.status_code for r in responses) == [201, 409]
        refused = next(r for r in responses if r.status_code == 409)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert (
            refused.json()["size_bytes"],
            refused.json()["used_bytes"],
            refused.json()["quota_bytes"],
        ) == (600, 600, 1000)
        usage = (await client.get("/v1/media-quota", headers=brand.headers)).json()
        listed = (await client.get("/v1/media", headers=brand.headers)).json()
    assert usage == {"quota_bytes": 1000, "used_bytes": 600, "assets": 1}
    assert sum(m["size_bytes"] for m in listed) == 600
    key = f"{brand.brand_id}/{listed[0]['media_id']}"
    assert await _objects(tiny_quota_svc, brand) == [key, f"{key}.thumb"], "the image and its preview, once"


async def test_the_same_bytes_are_stored_once_per_brand_and_freed_on_delete(svc, brand, producer):
    data = png(2048)
    other = Brand(producer)
    async with svc.client() as client:
        first = await _upload(client, brand, data)
        again = await _upload(client, brand, data, name="copy.png")
        elsewhere = await _upload(client, other, data)
        assert (first.status_code, again.status_code, elsewhere.status_code) == (201, 200, 201)
        assert first.json()["media_id"] == again.json()["media_id"] != elsewhere.json()["media_id"]
        assert first.json()["mime_type"] == "image/png"
        assert (await client.get("/v1/media-quota", headers=brand.headers)).json()["used_bytes"] == 2048

        media_id = first.json()["media_id"]
        job = (
            await client.post(
                "/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox, media_ids=[media_id])
            )
        ).json()
        in_use = await client.delete(f"/v1/media/{media_id}", headers=brand.headers)
        assert in_use.status_code == 409 and job["job_id"] in in_use.json()["job_ids"]
        assert (await client.delete(f"/v1/media/{media_id}", headers=other.headers)).status_code == 404
        await client.post(f"/v1/jobs/{job['job_id']}/cancel", headers=brand.headers)
        assert (await client.delete(f"/v1/media/{media_id}", headers=brand.headers)).status_code == 204
        assert (await client.get("/v1/media-quota", headers=brand.headers)).json()["used_bytes"] == 0
        assert (await client.get(f"/v1/media/{media_id}", headers=brand.headers)).status_code == 404
    # Soft deleted: hidden and its quota free, object and row kept until the purge.
    assert len(await _objects(svc, brand)) == 2 and await _rows(svc, brand) == 1  # image + preview
    svc.clock.advance(timedelta(seconds=_deps(svc).settings.media_purge_after_s + 1))
    while await purge_deleted_media(_deps(svc)):
        pass
    assert await _objects(svc, brand) == [] and await _rows(svc, brand) == 0
    assert len(await _objects(svc, other)) == 2, "the other brand's copy is its own"


async def test_content_is_sniffed_not_taken_from_the_name(svc, brand):
    async with svc.client() as client:
        response = await _upload(client, brand, b"#!/bin/sh\necho not an image\n" * 20, name="cat.png")
    assert response.status_code == 415


async def test_a_job_that_does_not_fit_a_platform_is_422_naming_target_and_limit(svc, brand):
    async with svc.client() as client:
        images = [(await _upload(client, brand, png(1000 + i))).json()["media_id"] for i in range(5)]
        too_many = await client.post(
            "/v1/jobs",
            headers=brand.headers,
            json=job_body(
                brand.sandbox,
                media_ids=images,
                targets=[
                    {"platform": "mastodon", "connection_id": str(await brand.connect(svc, "mastodon"))}
                ],
            ),
        )
        too_long = await client.post(
            "/v1/jobs",
            headers=brand.headers,
            json=job_body(
                targets=[
                    {"platform": "sandbox", "connection_id": str(brand.sandbox)},
                    {
                        "platform": "bluesky",
                        "connection_id": str(await brand.connect(svc, "bluesky")),
                        "text": "🇩🇪" * 301,
                    },
                ]
            ),
        )
        emoji_fits = await client.post(
            "/v1/jobs",
            headers=brand.headers,
            json=job_body(
                brand.sandbox,
                targets=[
                    {
                        "platform": "bluesky",
                        "connection_id": str(await brand.connect(svc, "bluesky")),
                        "text": "🇩🇪" * 300,
                    }
                ],
            ),
        )
    assert too_many.status_code == 422
    error = next(e for e in too_many.json()["errors"] if e["code"] == "too_many_media")
    assert error["field"] == "targets[0].media" and error["limit"] == 4 and error["platform"] == "mastodon"
    assert too_long.status_code == 422
    (error,) = too_long.json()["errors"]
    assert error["field"] == "targets[1].text" and error["limit"] == 300 and error["actual"] == 301
    assert emoji_fits.status_code == 201, "Bluesky counts graphemes: 300 flags fit"


async def test_an_attempt_carries_the_targets_media_in_order(svc, brand, infra):
    from aligned_common.envelope import EventEnvelope
    from aligned_testing.kafka_reader import TopicReader
    from aligned_testing.publishing import events_of

    async with (
        svc.client() as client,
        TopicReader(infra.kafka_bootstrap, "aligned.publishing.events") as topic,
    ):
        first, second = [(await _upload(client, brand, png(900 + i))).json() for i in range(2)]
        job = (
            await client.post(
                "/v1/jobs",
                headers=brand.headers,
                json=job_body(brand.sandbox, media_ids=[second["media_id"], first["media_id"]]),
            )
        ).json()
        await client.post(f"/v1/jobs/{job['job_id']}/publish-now", headers=brand.headers)
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.attempt_requested"), settle_s=0
        )
    raw = next(
        r.value
        for r in records
        if b"publishing.attempt_requested" in r.value and r.key == str(brand.brand_id).encode()
    )
    data = EventEnvelope.from_bytes(raw).payload()
    assert [str(m.media_id) for m in data.media] == [second["media_id"], first["media_id"]]
    assert data.media[0].mime_type == "image/png" and data.media[0].size_bytes == 901
    # A short-lived presigned GET URL on the store, which reads without credentials.
    assert "X-Amz-Signature=" in data.media[0].url and "X-Amz-Expires=3600" in data.media[0].url
    async with httpx.AsyncClient() as plain:
        fetched = await plain.get(data.media[0].url)
    assert fetched.status_code == 200 and hashlib.sha256(fetched.content).hexdigest() == second["sha256"]


async def test_each_platform_is_sent_the_variant_that_fits_it_and_the_others_the_original(svc, brand, infra):
    from PIL import Image

    from aligned_common.envelope import EventEnvelope
    from aligned_testing.kafka_reader import TopicReader
    from aligned_testing.publishing import events_of

    wide = png(20_000, width=400, height=100)  # 4:1; the sandbox shows up to 1.91:1, Mastodon any
    async with (
        svc.client() as client,
        TopicReader(infra.kafka_bootstrap, "aligned.publishing.events") as topic,
    ):
        media = (await _upload(client, brand, wide)).json()
        mastodon = str(await brand.connect(svc, "mastodon"))
        job = (
            await client.post(
                "/v1/jobs",
                headers=brand.headers,
                json=job_body(
                    brand.sandbox,
                    media_ids=[media["media_id"]],
                    targets=[
                        {"platform": "sandbox", "connection_id": str(brand.sandbox)},
                        {"platform": "mastodon", "connection_id": mastodon},
                    ],
                ),
            )
        ).json()
        await client.post(f"/v1/jobs/{job['job_id']}/publish-now", headers=brand.headers)
        records = await topic.read_until(
            lambda rs: len(events_of(rs, brand, "publishing.attempt_requested")) >= 2, settle_s=0
        )
    assert set(media["variants"]) == {"sandbox"}, "only the platform whose limits it breaks gets a variant"
    fitted = media["variants"]["sandbox"]
    assert (fitted["width"], fitted["height"]) == (191, 100)
    attempts = {
        a.platform: a
        for a in (
            EventEnvelope.from_bytes(r.value).payload()
            for r in records
            if b"publishing.attempt_requested" in r.value and r.key == str(brand.brand_id).encode()
        )
    }
    async with httpx.AsyncClient() as plain:
        to_sandbox = (await plain.get(attempts["sandbox"].media[0].url)).content
        to_mastodon = (await plain.get(attempts["mastodon"].media[0].url)).content
    assert (
        hashlib.sha256(to_sandbox).hexdigest() == fitted["sha256"] and len(to_sandbox) == fitted["size_bytes"]
    )
    assert attempts["sandbox"].media[0].size_bytes == fitted["size_bytes"]
    assert Image.open(io.BytesIO(to_sandbox)).size == (191, 100)
    assert to_mastodon == wide and attempts["mastodon"].media[0].size_bytes == len(wide)
    key = f"{brand.brand_id}/{media['media_id']}"
    assert await _objects(svc, brand) == [key, f"{key}.fit0", f"{key}.thumb"]


async def test_an_image_over_a_platforms_byte_limit_fits_it_as_a_variant_and_the_job_is_accepted(svc, brand):
    from aligned_testing.media import jpeg

    big = jpeg(1600, 1200)  # random pixels: well over Bluesky's 1 MB
    assert len(big) > 1_000_000
    async with svc.client() as client:
        media = (await _upload(client, brand, big, name="big.jpg", content_type="image/jpeg")).json()
        bluesky = str(await brand.connect(svc, "bluesky"))
        job = await client.post(
            "/v1/jobs",
            headers=brand.headers,
            json=job_body(
                brand.sandbox,
                media_ids=[media["media_id"]],
                targets=[{"platform": "bluesky", "connection_id": bluesky}],
            ),
        )
    assert set(media["variants"]) == {"bluesky"}
    assert media["variants"]["bluesky"]["size_bytes"] <= 1_000_000 < media["size_bytes"]
    assert job.status_code == 201, job.text


async def test_uploads_that_are_refused_leave_nothing_in_the_store_or_the_tables(svc, brand):
    async with svc.client() as client:
        lying = await _upload(client, brand, jpeg(), name="cat.png", content_type="image/png")
        pdf = await _upload(
            client, brand, b"%PDF-1.4\n" + b"x" * 500, name="a.pdf", content_type="application/pdf"
        )
        corrupt = await _upload(client, brand, corrupt_png())
        undeclared = await _upload(client, brand, jpeg(), name="x", content_type="application/octet-stream")
    assert lying.status_code == 415 and lying.json()["sniffed_type"] == "image/jpeg"
    assert lying.json()["declared_type"] == "image/png" and lying.json()["errors"][0]["field"] == "file"
    assert pdf.status_code == 415 and pdf.json()["sniffed_type"] == "application/pdf"
    assert corrupt.status_code == 422 and corrupt.json()["errors"][0]["field"] == "file"
    for refused in (lying, pdf, corrupt):
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert undeclared.status_code == 201 and undeclared.json()["mime_type"] == "image/jpeg"
    assert await _rows(svc, brand) == 1 and len(await _objects(svc, brand)) == 2  # the JPEG and its preview


async def test_over_the_size_limit_is_413_with_the_limit(infra, topics, scratch_schema, producer):
    settings = make_settings(max_upload_bytes=10_000)
    async with publishing_service(infra, scratch_schema, settings, MovableClock()) as small:
        brand = Brand(producer)
        async with small.client() as client:
            big = await _upload(client, brand, png(10_001))
            fits = await _upload(client, brand, png(10_000))
        assert big.status_code == 413 and big.json()["limit_bytes"] == 10_000
        assert fits.status_code == 201
        assert await _rows(small, brand) == 1 and len(await _objects(small, brand)) == 2


async def test_a_video_keeps_its_duration_and_a_failed_commit_leaves_no_object(svc, brand):
    async with svc.client() as client:
        video = await _upload(
            client, brand, mp4(300_000, duration_s=12.5), name="clip.mp4", content_type="video/mp4"
        )
    assert video.status_code == 201
    assert (video.json()["mime_type"], video.json()["duration_s"], video.json()["size_bytes"]) == (
        "video/mp4",
        12.5,
        300_000,
    )

    # The row's transaction fails after the object was written: the object is removed again.
    deps = _deps(svc)
    await deps.pool.execute(
        f'ALTER TABLE "{deps.schema}".storage_quotas ADD CONSTRAINT media_test_cap'
        f" CHECK (brand_id <> '{brand.brand_id}' OR used_bytes < 400000)"  # this brand's row only
    )
    try:
        async with svc.client() as client:
            failed = await _upload(client, brand, png(200_000))
        assert failed.status_code == 500
    finally:
        await deps.pool.execute(f'ALTER TABLE "{deps.schema}".storage_quotas DROP CONSTRAINT media_test_cap')
    assert await _rows(svc, brand) == 1 and len(await _objects(svc, brand)) == 1


async def test_location_and_camera_metadata_are_removed_before_the_image_is_stored(svc, brand):
    from PIL import ExifTags, Image

    from aligned_testing.media import jpeg_with_location, png_with_text

    photo, drawing = jpeg_with_location(orientation=6), png_with_text()
    async with svc.client() as client:
        stored_photo = (
            await _upload(client, brand, photo, name="holiday.jpg", content_type="image/jpeg")
        ).json()
        stored_drawing = (await _upload(client, brand, drawing)).json()
    store = _deps(svc).storage

    async def read(media_id):
        return b"".join([chunk async for chunk in store.stream(f"{brand.brand_id}/{media_id}")])

    kept = await read(stored_photo["media_id"])
    assert stored_photo["sha256"] == hashlib.sha256(kept).hexdigest() != hashlib.sha256(photo).hexdigest()
    assert stored_photo["size_bytes"] == len(kept) < len(photo)
    exif = Image.open(io.BytesIO(kept)).getexif()
    assert dict(exif) == {ExifTags.Base.Orientation: 6}, "only the orientation is left"
    assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert Image.open(io.BytesIO(kept)).tobytes() == Image.open(io.BytesIO(photo)).tobytes(), "lossless"
    kept = await read(stored_drawing["media_id"])
    assert (
        b"Location" not in kept and b"tEXt" not in kept and len(kept) == 6000
    )  # png_with_text(6000): the 6000-byte PNG plus its tEXt chunk
    assert (
        await _deps(svc).pool.fetchval(
            f'SELECT used_bytes FROM "{_deps(svc).schema}".storage_quotas WHERE brand_id = $1', brand.brand_id
        )
    ) == stored_photo["size_bytes"] + stored_drawing["size_bytes"]


async def test_a_still_image_gets_a_preview_and_a_video_none(svc, brand):
    import io

    from PIL import Image

    from aligned_testing.media import jpeg

    async with svc.client() as client:
        photo = (
            await _upload(client, brand, jpeg(1600, 900), name="wide.jpg", content_type="image/jpeg")
        ).json()
        clip = (await _upload(client, brand, mp4(50_000), name="c.mp4", content_type="video/mp4")).json()
        listed = {m["media_id"]: m for m in (await client.get("/v1/media", headers=brand.headers)).json()}
    assert clip["thumbnail_url"] is None and listed[clip["media_id"]]["thumbnail_url"] is None
    async with httpx.AsyncClient() as plain:
        preview = await plain.get(listed[photo["media_id"]]["thumbnail_url"])
    assert preview.status_code == 200
    image = Image.open(io.BytesIO(preview.content))
    assert (image.format, image.size) == ("JPEG", (320, 180))


async def test_alt_text_is_kept_validated_and_carried_in_the_attempt(svc, brand, infra):
    from aligned_common.envelope import EventEnvelope
    from aligned_testing.kafka_reader import TopicReader
    from aligned_testing.publishing import events_of

    async with (
        svc.client() as client,
        TopicReader(infra.kafka_bootstrap, "aligned.publishing.events") as topic,
    ):
        described = await client.post(
            "/v1/media",
            headers=brand.headers,
            data={"alt_text": "a red bicycle"},
            files={"file": ("bike.png", png(3000), "image/png")},
        )
        too_long = await client.post(
            "/v1/media",
            headers=brand.headers,
            data={"alt_text": "x" * 1501},
            files={"file": ("bike.png", png(3000), "image/png")},
        )
        plain = (await _upload(client, brand, png(3100))).json()
        changed = await client.patch(
            f"/v1/media/{plain['media_id']}", headers=brand.headers, json={"alt_text": "a blue one"}
        )
        job = (
            await client.post(
                "/v1/jobs",
                headers=brand.headers,
                json=job_body(brand.sandbox, media_ids=[described.json()["media_id"], plain["media_id"]]),
            )
        ).json()
        await client.post(f"/v1/jobs/{job['job_id']}/publish-now", headers=brand.headers)
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.attempt_requested"), settle_s=0
        )
    assert described.status_code == 201 and described.json()["alt_text"] == "a red bicycle"
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "alt_text"
    assert changed.status_code == 200 and changed.json()["alt_text"] == "a blue one"
    raw = next(
        r.value for r in records if b"attempt_requested" in r.value and r.key == str(brand.brand_id).encode()
    )
    assert [m.alt_text for m in EventEnvelope.from_bytes(raw).payload().media] == [
        "a red bicycle",
        "a blue one",
    ]
    assert await _rows(svc, brand) == 2, "the refused upload left no row"


# -- presigned uploads -------------------------------------------------------------------------
async def _start(client, brand, data: bytes, mime_type="image/png", **claim):
    body = {
        "filename": "big.bin",
        "mime_type": mime_type,
        "size_bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    } | claim
    return await client.post("/v1/media/uploads", headers=brand.headers, json=body)


async def _pending(svc, brand) -> int:
    deps = _deps(svc)
    return await deps.pool.fetchval(
        f'SELECT count(*) FROM "{deps.schema}".media_uploads WHERE brand_id = $1', brand.brand_id
    )


async def _staged(svc, brand) -> list[str]:
    store = _deps(svc).storage
    listed = await store._client.list_objects_v2(Bucket=store.bucket, Prefix=f"uploads/{brand.brand_id}/")
    return [o["Key"] for o in listed.get("Contents", []) if not o["Key"].endswith("/")]


async def test_a_presigned_upload_goes_straight_to_the_store_and_is_verified_on_complete(svc, brand):
    video = mp4(2_000_000, duration_s=4)
    async with svc.client() as client, httpx.AsyncClient() as direct:
        started = (await _start(client, brand, video, "video/mp4", alt_text="the launch")).json()
        assert started["method"] == "PUT" and started["headers"] == {"Content-Type": "video/mp4"}
        early = await client.post(f"/v1/media/uploads/{started['upload_id']}/complete", headers=brand.headers)
        put = await direct.put(started["upload_url"], content=video, headers=started["headers"])
        done = await client.post(f"/v1/media/uploads/{started['upload_id']}/complete", headers=brand.headers)
        again = await client.post(f"/v1/media/uploads/{started['upload_id']}/complete", headers=brand.headers)
    assert early.status_code == 409, "nothing uploaded yet; the upload stays open"
    assert put.status_code == 200
    assert done.status_code == 201, done.text
    asset = done.json()
    assert (
        asset["sha256"],
        asset["size_bytes"],
        asset["mime_type"],
        asset["duration_s"],
        asset["alt_text"],
    ) == (hashlib.sha256(video).hexdigest(), len(video), "video/mp4", 4.0, "the launch")
    assert again.status_code == 404, "a completed upload is gone"
    assert await _staged(svc, brand) == [] and await _pending(svc, brand) == 0
    assert (
        await _objects(svc, brand) == [f"{brand.brand_id}/{asset['media_id']}"]
        and await _rows(svc, brand) == 1
    )


async def test_a_presigned_upload_that_lies_is_refused_on_complete_and_leaves_nothing(svc, brand):
    photo, other = jpeg(), png(5000)
    async with svc.client() as client, httpx.AsyncClient() as direct:
        claims_png = (await _start(client, brand, photo)).json()  # says PNG, is a JPEG
        await direct.put(claims_png["upload_url"], content=photo, headers=claims_png["headers"])
        lying = await client.post(
            f"/v1/media/uploads/{claims_png['upload_id']}/complete", headers=brand.headers
        )
        wrong_sha = (await _start(client, brand, other)).json()
        await direct.put(wrong_sha["upload_url"], content=png(5000), headers=wrong_sha["headers"])
        swapped = await client.post(
            f"/v1/media/uploads/{wrong_sha['upload_id']}/complete", headers=brand.headers
        )
        too_big = await _start(client, brand, b"x", size_bytes=_deps(svc).settings.max_upload_bytes + 1)
        wrong_type = await _start(client, brand, b"%PDF", mime_type="application/pdf")
    assert lying.status_code == 415 and lying.json()["sniffed_type"] == "image/jpeg"
    assert swapped.status_code == 422 and swapped.json()["errors"][0]["field"] == "sha256"
    assert too_big.status_code == 413 and too_big.json()["errors"][0]["field"] == "size_bytes"
    assert wrong_type.status_code == 415 and wrong_type.json()["errors"][0]["field"] == "mime_type"
    assert await _staged(svc, brand) == [] and await _pending(svc, brand) == 0
    assert await _objects(svc, brand) == [] and await _rows(svc, brand) == 0


async def test_a_presigned_upload_never_completed_expires_and_is_cleaned_up(svc, brand):
    from aligned_publishing.service_layer.media import purge_expired_uploads

    data = png(8000)
    async with svc.client() as client, httpx.AsyncClient() as direct:
        started = (await _start(client, brand, data)).json()
        await direct.put(started["upload_url"], content=data, headers=started["headers"])
        assert len(await _staged(svc, brand)) == 1 and await _pending(svc, brand) == 1
        usage = (await client.get("/v1/media-quota", headers=brand.headers)).json()["used_bytes"]
        assert usage == 0, "an open upload holds no quota"
        svc.clock.advance(timedelta(seconds=_deps(svc).settings.upload_url_ttl_s + 1))
        while await purge_expired_uploads(_deps(svc)):
            pass
        late = await client.post(f"/v1/media/uploads/{started['upload_id']}/complete", headers=brand.headers)
    assert late.status_code == 404
    assert (
        await _staged(svc, brand) == [] and await _pending(svc, brand) == 0 and await _rows(svc, brand) == 0
    )


async def _multipart_uploads(svc, brand) -> list[str]:
    store = _deps(svc).storage
    listed = await store._client.list_multipart_uploads(
        Bucket=store.bucket, Prefix=f"uploads/{brand.brand_id}/"
    )
    return [u["Key"] for u in listed.get("Uploads", [])]


async def _put_parts(direct, started, data: bytes, numbers=None) -> list[dict]:
    size = started["part_size"]
    sent = []
    for part in started["parts"]:
        n = part["part_number"]
        if numbers is not None and n not in numbers:
            continue
        answer = await direct.put(part["url"], content=data[(n - 1) * size : n * size])
        assert answer.status_code == 200, answer.text
        sent.append({"part_number": n, "etag": answer.headers["ETag"]})
    return sent


async def test_a_multipart_upload_is_put_together_from_its_parts_and_verified_like_one_put(svc, brand):
    from aligned_publishing.adapters.object_store import PART

    video = mp4(2 * PART + 777, duration_s=30)
    async with svc.client() as client, httpx.AsyncClient(timeout=60) as direct:
        started = (await _start(client, brand, video, "video/mp4", multipart=True)).json()
        assert started["upload_url"] is None and started["part_size"] == PART and len(started["parts"]) == 3
        first = await _put_parts(direct, started, video, numbers={1, 3})
        missing = await client.post(
            f"/v1/media/uploads/{started['upload_id']}/complete", headers=brand.headers
        )
        assert missing.status_code == 409 and missing.json()["missing_parts"] == [2], "the upload stays open"
        second = await _put_parts(direct, started, video, numbers={2})
        wrong = await client.post(
            f"/v1/media/uploads/{started['upload_id']}/complete",
            headers=brand.headers,
            json={"parts": [{"part_number": 1, "etag": "nope"}]},
        )
        assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "parts"
        done = await client.post(
            f"/v1/media/uploads/{started['upload_id']}/complete",
            headers=brand.headers,
            json={"parts": sorted(first + second, key=lambda p: p["part_number"])},
        )
    assert done.status_code == 201, done.text
    media = done.json()
    assert (media["sha256"], media["size_bytes"], media["duration_s"], media["video_codec"]) == (
        hashlib.sha256(video).hexdigest(),
        len(video),
        30.0,
        "h264",
    )
    assert await _objects(svc, brand) == [f"{brand.brand_id}/{media['media_id']}"]
    assert await _staged(svc, brand) == [] and await _pending(svc, brand) == 0
    assert await _multipart_uploads(svc, brand) == []


async def test_a_multipart_upload_that_lies_about_its_bytes_leaves_no_parts_object_or_row(svc, brand):
    from aligned_publishing.adapters.object_store import PART

    video = mp4(PART + 100, duration_s=5)
    async with svc.client() as client, httpx.AsyncClient(timeout=60) as direct:
        started = (await _start(client, brand, video, "video/mp4", multipart=True)).json()
        await _put_parts(direct, started, mp4(PART + 100, duration_s=5))  # other bytes, same size
        lying = await client.post(f"/v1/media/uploads/{started['upload_id']}/complete", headers=brand.headers)
    assert lying.status_code == 422 and lying.json()["errors"][0]["field"] == "sha256"
    assert (
        await _staged(svc, brand) == [] and await _pending(svc, brand) == 0 and await _rows(svc, brand) == 0
    )
    assert await _multipart_uploads(svc, brand) == []


async def test_a_multipart_upload_never_completed_is_aborted_on_expiry(svc, brand):
    from aligned_publishing.adapters.object_store import PART
    from aligned_publishing.service_layer.media import purge_expired_uploads

    video = mp4(PART + 100, duration_s=5)
    async with svc.client() as client, httpx.AsyncClient(timeout=60) as direct:
        started = (await _start(client, brand, video, "video/mp4", multipart=True)).json()
        await _put_parts(direct, started, video, numbers={1})
        assert len(await _multipart_uploads(svc, brand)) == 1
        svc.clock.advance(timedelta(seconds=_deps(svc).settings.upload_url_ttl_s + 1))
        while await purge_expired_uploads(_deps(svc)):
            pass
        usage = (await client.get("/v1/media-quota", headers=brand.headers)).json()["used_bytes"]
    assert await _multipart_uploads(svc, brand) == [] and await _staged(svc, brand) == []
    assert await _pending(svc, brand) == 0 and usage == 0


async def test_the_same_bytes_uploaded_at_once_make_one_asset_and_one_object(svc, brand):
    data = png(50_000)
    async with svc.client() as client:
        answers = await asyncio.gather(*(_upload(client, brand, data) for _ in range(4)))
    assert sorted(a.status_code for a in answers)[-1] == 201 and {a.json()["media_id"] for a in answers} == {
        answers[0].json()["media_id"]
    }
    media_id = answers[0].json()["media_id"]
    assert await _objects(svc, brand) == [
        f"{brand.brand_id}/{media_id}",
        f"{brand.brand_id}/{media_id}.thumb",
    ]
    assert await _rows(svc, brand) == 1


async def test_a_large_file_is_written_in_parts_and_reads_back_whole(svc, brand):
    from aligned_publishing.adapters.object_store import PART

    video = mp4(2 * PART + 12345, duration_s=60)
    async with svc.client() as client:
        answer = await _upload(client, brand, video, name="long.mp4", content_type="video/mp4")
    assert answer.status_code == 201
    store = _deps(svc).storage
    read = hashlib.sha256()
    async for chunk in store.stream(f"{brand.brand_id}/{answer.json()['media_id']}"):
        read.update(chunk)
    assert read.hexdigest() == answer.json()["sha256"] == hashlib.sha256(video).hexdigest()


async def test_an_owner_changes_the_quota_and_uploads_follow_it(svc, producer):
    from aligned_common.identity import Identity

    owner = Brand(producer, role="owner")
    editor = Brand(producer)  # of the same brand: an editor may upload, not change the quota
    editor.brand_id, editor.tenant_id = owner.brand_id, owner.tenant_id
    editor.identity = Identity(owner.tenant_id, owner.brand_id, "user-2", "editor")
    async with svc.client() as client:
        assert (await client.get("/v1/media-quota", headers=owner.headers)).json()[
            "quota_bytes"
        ] == 5 * 1024**3
        refused = await client.patch("/v1/media-quota", headers=editor.headers, json={"quota_bytes": 1})
        changed = await client.patch("/v1/media-quota", headers=owner.headers, json={"quota_bytes": 10_000})
        fits = await _upload(client, owner, png(6000))
        over = await _upload(client, owner, png(6001))
        negative = await client.patch("/v1/media-quota", headers=owner.headers, json={"quota_bytes": -1})
    assert refused.status_code == 403
    assert changed.status_code == 200 and changed.json() == {
        "quota_bytes": 10_000,
        "used_bytes": 0,
        "assets": 0,
    }
    assert fits.status_code == 201
    assert over.status_code == 409 and (over.json()["used_bytes"], over.json()["quota_bytes"]) == (
        6000,
        10_000,
    )
    assert negative.status_code == 422
    assert len(await _objects(svc, owner)) == 2, (
        "the refused upload left no object (the kept one: image + preview)"
    )


async def test_an_assets_usage_count_and_history_follow_the_jobs_that_attach_and_drop_it(svc, brand):
    async with svc.client() as client:
        first, second = [(await _upload(client, brand, png(3000 + i))).json() for i in range(2)]
        job = (
            await client.post(
                "/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox, media_ids=[first["media_id"]])
            )
        ).json()
        counted = (await client.get(f"/v1/media/{first['media_id']}", headers=brand.headers)).json()[
            "usage_count"
        ]
        edited = await client.patch(
            f"/v1/jobs/{job['job_id']}", headers=brand.headers, json={"media_ids": [second["media_id"]]}
        )
        assert edited.status_code == 200, edited.text
        listed = {
            m["media_id"]: m["usage_count"]
            for m in (await client.get("/v1/media", headers=brand.headers)).json()
        }
        history = (await client.get(f"/v1/media/{first['media_id']}/usage", headers=brand.headers)).json()
        other = await client.get(
            f"/v1/media/{first['media_id']}/usage", headers=Brand(brand._producer).headers
        )
    assert counted == 1 and listed == {first["media_id"]: 0, second["media_id"]: 1}
    assert [(h["job_id"], h["action"]) for h in history] == [
        (job["job_id"], "detached"),
        (job["job_id"], "attached"),
    ]
    assert other.status_code == 404, "another brand's asset is not found"


async def test_an_account_may_have_its_own_alt_text_for_an_item_and_its_attempt_carries_it(svc, brand, infra):
    from aligned_common.envelope import EventEnvelope
    from aligned_testing.kafka_reader import TopicReader
    from aligned_testing.publishing import events_of

    async with (
        svc.client() as client,
        TopicReader(infra.kafka_bootstrap, "aligned.publishing.events") as topic,
    ):
        photo = (
            await client.post(
                "/v1/media",
                headers=brand.headers,
                files={"file": ("p.png", png(4000), "image/png")},
                data={"alt_text": "a red door"},
            )
        ).json()
        other = await client.post(
            "/v1/jobs",
            headers=brand.headers,
            json=job_body(
                brand.sandbox,
                media_ids=[photo["media_id"]],
                targets=[
                    {
                        "platform": "sandbox",
                        "connection_id": str(brand.sandbox),
                        "alt_texts": {str(uuid.uuid4()): "x"},
                    }
                ],
            ),
        )
        job = (
            await client.post(
                "/v1/jobs",
                headers=brand.headers,
                json=job_body(
                    brand.sandbox,
                    media_ids=[photo["media_id"]],
                    targets=[
                        {
                            "platform": "sandbox",
                            "connection_id": str(brand.sandbox),
                            "alt_texts": {photo["media_id"]: "eine rote Tür"},
                        }
                    ],
                ),
            )
        ).json()
        await client.post(f"/v1/jobs/{job['job_id']}/publish-now", headers=brand.headers)
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.attempt_requested"), settle_s=0
        )
    assert other.status_code == 422 and other.json()["errors"][0]["field"].startswith("targets[0].alt_texts.")
    assert job["targets"][0]["alt_texts"] == {photo["media_id"]: "eine rote Tür"}
    attempt = next(
        EventEnvelope.from_bytes(r.value).payload()
        for r in records
        if b"publishing.attempt_requested" in r.value and r.key == str(brand.brand_id).encode()
    )
    assert attempt.media[0].alt_text == "eine rote Tür"
