"""Media, as a user meets it: upload images or a video, attach them to a post, have it approved,
and the platform receives exactly those bytes. Bad uploads are refused with a problem+json and
leave nothing behind, in the API's lists or in the object store.

Through the gateway only, plus the sandbox platform's own view of a post (what the outside
world received) and a listing of the object store (the bytes' real home, s3proxy here).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from typing import Any

import httpx
import pytest
from aiobotocore.session import get_session
from botocore.config import Config
from PIL import ExifTags, Image

from aligned_testing.flows import decide, job_in, pending_round
from aligned_testing.gateway_client import (
    BrandSetup,
    Gateway,
    SandboxControl,
    connect_sandbox,
    eventually,
)
from aligned_testing.media import corrupt_png, jpeg, jpeg_with_location, mp4, png
from aligned_testing.system import System

pytestmark = pytest.mark.e2e


async def upload(
    owner: Gateway, data: bytes, name: str, content_type: str, alt_text: str | None = None
) -> dict[str, Any]:
    answer = await owner.upload(
        "/v1/media", name, data, content_type, {"alt_text": alt_text} if alt_text else None
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["sha256"] == hashlib.sha256(data).hexdigest()
    return answer.json()


def s3_client(system: System):
    store = system.infra.object_store
    config = Config(
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        s3={"addressing_style": "path"},
    )
    return get_session().create_client(
        "s3",
        endpoint_url=store.endpoint_url,
        aws_access_key_id=store.access_key_id,
        aws_secret_access_key=store.secret_access_key,
        region_name="us-east-1",
        config=config,
    )


async def stored_bytes(system: System, key: str) -> bytes:
    async with s3_client(system) as s3:
        answer = await s3.get_object(Bucket=system.infra.object_store.bucket, Key=key)
        return await answer["Body"].read()


async def store_keys(system: System, brand: BrandSetup) -> list[str]:
    """Every object the store holds for the brand (its keys start with the brand id)."""
    async with s3_client(system) as s3:
        listed = await s3.list_objects_v2(
            Bucket=system.infra.object_store.bucket, Prefix=f"{brand.brand_id}/"
        )
    # s3proxy's filesystem backend lists directories as keys ending in "/": not objects.
    return [o["Key"] for o in listed.get("Contents", []) if not o["Key"].endswith("/")]


async def publish_on_sandbox(
    brand: BrandSetup, sandbox: SandboxControl, what: str, media_ids: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A post of these media on the brand's sandbox account, published now: (job, the platform's post)."""
    owner = brand.owner.api
    job = await owner.post(
        "/v1/jobs",
        {
            "content": f"{what} {uuid.uuid4().hex[:6]}",
            "media_ids": media_ids,
            "targets": [{"platform": "sandbox", "connection_id": brand.connection_id}],
        },
    )
    await owner.post(f"/v1/jobs/{job['job_id']}/publish-now")
    done = await job_in(owner, job["job_id"], ("published", "failed"), timeout_s=120)
    assert done["status"] == "published", done
    return job, await sandbox.post(done["targets"][0]["remote_id"])


async def start_upload(owner: Gateway, data: bytes, mime_type: str, **claim: Any) -> dict[str, Any]:
    """POST /v1/media/uploads: the claim (type, size, sha256 of `data`, and `claim`) for a presigned upload."""
    return await owner.post(
        "/v1/media/uploads",
        {
            "mime_type": mime_type,
            "size_bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            **claim,
        },
    )


def received(post: dict[str, Any]) -> list[tuple[str, int]]:
    return [(m["sha256"], m["size_bytes"]) for m in post["media"]]


def sent(*files: bytes) -> list[tuple[str, int]]:
    return [(hashlib.sha256(f).hexdigest(), len(f)) for f in files]


async def test_a_post_with_four_images_is_approved_and_the_platform_gets_the_same_bytes(
    brand: BrandSetup, sandbox: SandboxControl, system: System
) -> None:
    owner = brand.owner.api
    images = [png(40_000 + i) for i in range(3)] + [jpeg(320, 240)]
    media = [
        await upload(
            owner,
            data,
            f"photo-{i}",
            "image/png" if i < 3 else "image/jpeg",
            alt_text=f"photo {i} of the new collection" if i < 3 else None,
        )
        for i, data in enumerate(images)
    ]
    described = await owner.request(
        "PATCH", f"/v1/media/{media[3]['media_id']}", json_body={"alt_text": "the shop window at night"}
    )
    assert described["alt_text"] == "the shop window at night"
    job = await owner.post(
        "/v1/jobs",
        {
            "content": f"Four photos {uuid.uuid4().hex[:6]}",
            "requires_approval": True,
            "media_ids": [m["media_id"] for m in media],
            "targets": [{"platform": "sandbox", "connection_id": brand.connection_id}],
        },
    )
    await owner.post(f"/v1/jobs/{job['job_id']}/submit")
    await decide(brand.client, job["job_id"])
    await job_in(owner, job["job_id"], ("ready",))
    await owner.post(f"/v1/jobs/{job['job_id']}/publish-now")
    done = await job_in(owner, job["job_id"], ("published", "failed"), timeout_s=120)

    assert done["status"] == "published", done
    post = await sandbox.post(done["targets"][0]["remote_id"])
    assert received(post) == sent(*images), "the platform received the uploaded bytes, in order"
    assert [m["mime_type"] for m in post["media"]] == ["image/png"] * 3 + ["image/jpeg"]
    assert [m["alt_text"] for m in post["media"]] == [
        "photo 0 of the new collection",
        "photo 1 of the new collection",
        "photo 2 of the new collection",
        "the shop window at night",
    ], "alt text reaches the platform with each item"
    keys = {f"{brand.brand_id}/{m['media_id']}" for m in media}
    assert set(await store_keys(system, brand)) == keys | {f"{k}.thumb" for k in keys}, (
        "each image and its preview"
    )


async def test_a_post_with_a_video_publishes_end_to_end(brand: BrandSetup, sandbox: SandboxControl) -> None:
    owner = brand.owner.api
    video = mp4(3_000_000, duration_s=8)
    media = await upload(owner, video, "clip.mp4", "video/mp4")
    assert (media["mime_type"], media["duration_s"]) == ("video/mp4", 8.0)
    job, post = await publish_on_sandbox(brand, sandbox, "A video", [media["media_id"]])
    assert received(post) == sent(video) and post["media"][0]["mime_type"] == "video/mp4"
    # Which jobs used the asset, and when: attached, then published; it is used by one job.
    history = await owner.get(f"/v1/media/{media['media_id']}/usage")
    assert [(h["job_id"], h["action"]) for h in history] == [
        (job["job_id"], "published"),
        (job["job_id"], "attached"),
    ]
    assert (await owner.get(f"/v1/media/{media['media_id']}"))["usage_count"] == 1


async def test_a_large_video_goes_to_the_store_directly_and_is_checked_before_it_exists(
    brand: BrandSetup, sandbox: SandboxControl, system: System
) -> None:
    owner = brand.owner.api
    video = mp4(8_000_000, duration_s=20)
    started = await start_upload(owner, video, "video/mp4", filename="launch.mp4", alt_text="the launch film")
    async with httpx.AsyncClient(timeout=60) as direct:  # not through the gateway
        put = await direct.put(started["upload_url"], content=video, headers=started["headers"])
    assert put.status_code == 200
    media = await owner.post(f"/v1/media/uploads/{started['upload_id']}/complete")
    assert (media["sha256"], media["size_bytes"], media["duration_s"]) == (
        hashlib.sha256(video).hexdigest(),
        len(video),
        20.0,
    )
    assert await store_keys(system, brand) == [f"{brand.brand_id}/{media['media_id']}"]

    _, post = await publish_on_sandbox(brand, sandbox, "Launch film", [media["media_id"]])
    assert received(post) == sent(video) and post["media"][0]["alt_text"] == "the launch film"


async def test_each_target_gets_its_own_media(brand: BrandSetup, sandbox: SandboxControl) -> None:
    owner = brand.owner.api
    second = await connect_sandbox(owner, sandbox.base_url, f"{brand.extra['account']}-b")
    shared, photo, video = png(20_000), jpeg(), mp4(500_000)
    ids = [
        (await upload(owner, data, name, kind))["media_id"]
        for data, name, kind in (
            (shared, "a.png", "image/png"),
            (photo, "b.jpg", "image/jpeg"),
            (video, "c.mp4", "video/mp4"),
        )
    ]
    job = await owner.post(
        "/v1/jobs",
        {
            "content": f"Per account {uuid.uuid4().hex[:6]}",
            "media_ids": [ids[0]],
            "targets": [
                {"platform": "sandbox", "connection_id": brand.connection_id, "media_ids": [ids[1], ids[0]]},
                {"platform": "sandbox", "connection_id": second["id"], "media_ids": [ids[2]]},
            ],
        },
    )
    await owner.post(f"/v1/jobs/{job['job_id']}/publish-now")
    done = await job_in(owner, job["job_id"], ("published", "partially_published", "failed"), timeout_s=120)

    assert done["status"] == "published", done
    first_post, second_post = [await sandbox.post(t["remote_id"]) for t in done["targets"]]
    assert received(first_post) == sent(photo, shared)
    assert received(second_post) == sent(video)


async def test_a_photo_reaches_the_platform_without_its_location(
    brand: BrandSetup, sandbox: SandboxControl, system: System
) -> None:
    owner = brand.owner.api
    photo = jpeg_with_location()
    answer = await owner.upload("/v1/media", "holiday.jpg", photo, "image/jpeg")
    assert answer.status_code == 201, answer.text
    media = answer.json()
    assert media["sha256"] != hashlib.sha256(photo).hexdigest() and media["size_bytes"] < len(photo)
    kept = await stored_bytes(system, f"{brand.brand_id}/{media['media_id']}")
    assert Image.open(io.BytesIO(kept)).getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    _, post = await publish_on_sandbox(brand, sandbox, "Holiday", [media["media_id"]])
    assert received(post) == [(media["sha256"], media["size_bytes"])] == sent(kept)


async def test_media_in_use_by_a_post_that_has_not_gone_out_cannot_be_deleted(brand: BrandSetup) -> None:
    owner = brand.owner.api
    media = await upload(owner, png(9_000), "later.png", "image/png")
    job = await owner.post(
        "/v1/jobs",
        {
            "content": "Next week",
            "media_ids": [media["media_id"]],
            "targets": [{"platform": "sandbox", "connection_id": brand.connection_id}],
        },
    )
    refused = await owner.request("DELETE", f"/v1/media/{media['media_id']}", ok=(409,))
    assert refused["job_ids"] == [job["job_id"]] and refused["status"] == 409
    await owner.post(f"/v1/jobs/{job['job_id']}/cancel")
    await owner.request("DELETE", f"/v1/media/{media['media_id']}")
    assert await owner.get("/v1/media") == []


async def test_bad_uploads_are_refused_and_leave_nothing_behind(brand: BrandSetup, system: System) -> None:
    owner = brand.owner.api
    lying = await owner.upload("/v1/media", "cat.png", jpeg(), "image/png")
    wrong = await owner.upload("/v1/media", "notes.pdf", b"%PDF-1.7\n" + b"x" * 2000, "application/pdf")
    corrupt = await owner.upload("/v1/media", "broken.png", corrupt_png(), "image/png")
    too_big = await owner.upload("/v1/media", "huge.png", png(20_000_001), "image/png")

    assert lying.status_code == 415 and (lying.json()["declared_type"], lying.json()["sniffed_type"]) == (
        "image/png",
        "image/jpeg",
    )
    assert wrong.status_code == 415 and wrong.json()["sniffed_type"] == "application/pdf"
    assert corrupt.status_code == 422
    assert too_big.status_code == 413 and too_big.json()["limit_bytes"] == 20_000_000
    for refused in (lying, wrong, corrupt, too_big):
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["errors"][0]["field"] == "file"
    assert await owner.get("/v1/media") == []
    assert (await owner.get("/v1/media-quota"))["used_bytes"] == 0
    assert await store_keys(system, brand) == []


async def test_deleted_media_is_gone_from_the_list_the_quota_and_then_the_store(
    brand: BrandSetup, system: System
) -> None:
    owner = brand.owner.api
    data = png(30_000)
    media = await upload(owner, data, "gone.png", "image/png")
    assert (await owner.get("/v1/media-quota"))["used_bytes"] == 30_000
    key = f"{brand.brand_id}/{media['media_id']}"
    assert sorted(await store_keys(system, brand)) == [key, f"{key}.thumb"]

    await owner.request("DELETE", f"/v1/media/{media['media_id']}")
    assert await owner.get("/v1/media") == []
    assert (await owner.get("/v1/media-quota"))["used_bytes"] == 0
    # The object goes with the purge that follows the soft delete (seconds, in tests).
    await eventually(lambda: _empty(system, brand), timeout_s=30, what="the object to be purged")


async def _empty(system: System, brand: BrandSetup) -> bool:
    return await store_keys(system, brand) == []


async def test_an_image_too_wide_for_the_platform_reaches_it_fitted_and_the_original_stays_whole(
    brand: BrandSetup, sandbox: SandboxControl, system: System
) -> None:
    owner = brand.owner.api
    # The sandbox's catalogue entry shows images from 9:16 to 1.91:1 (like Instagram's feed).
    banner, square = png(30_000, width=400, height=100), png(20_000, width=50, height=50)
    wide = await upload(owner, banner, "banner.png", "image/png")
    fits = await upload(owner, square, "square.png", "image/png")
    fitted = wide["variants"]["sandbox"]
    assert (fitted["width"], fitted["height"]) == (191, 100) and fits["variants"] == {}
    async with httpx.AsyncClient(timeout=30) as plain:
        variant = (await plain.get(fitted["url"])).content
    assert Image.open(io.BytesIO(variant)).size == (191, 100)
    assert hashlib.sha256(variant).hexdigest() == fitted["sha256"]
    _, post = await publish_on_sandbox(brand, sandbox, "Banner", [wide["media_id"], fits["media_id"]])
    assert received(post) == [(fitted["sha256"], fitted["size_bytes"]), *sent(square)], (
        "the fitted variant, then the original"
    )
    assert await stored_bytes(system, f"{brand.brand_id}/{wide['media_id']}") == banner, (
        "the original stays whole, for the platforms it fits"
    )


async def test_a_video_the_platform_cannot_take_is_refused_when_attached_naming_target_and_limit(
    brand: BrandSetup,
) -> None:
    owner = brand.owner.api
    wrong_codec = await upload(owner, mp4(60_000, codec="mpeg4"), "old.mp4", "video/mp4")
    too_long = await upload(owner, mp4(60_000, duration_s=150), "long.mp4", "video/mp4")
    fine = await upload(owner, mp4(60_000, duration_s=10), "fine.mp4", "video/mp4")
    assert (wrong_codec["video_codec"], too_long["duration_s"], fine["video_codec"]) == (
        "mpeg4",
        150.0,
        "h264",
    )
    target = [{"platform": "sandbox", "connection_id": brand.connection_id}]

    codec = await owner.request(
        "POST",
        "/v1/jobs",
        json_body={"content": "Old clip", "media_ids": [wrong_codec["media_id"]], "targets": target},
        ok=(422,),
    )
    length = await owner.request(
        "POST",
        "/v1/jobs",
        json_body={"content": "Long clip", "media_ids": [too_long["media_id"]], "targets": target},
        ok=(422,),
    )
    assert [(e["field"], e["platform"], e["limit"], e["actual"]) for e in codec["errors"]] == [
        ("targets[0].media[0].video_codec", "sandbox", ["h264", "hevc"], "mpeg4")
    ]
    assert [(e["field"], e["platform"], e["limit"]) for e in length["errors"]] == [
        ("targets[0].media[0].duration_s", "sandbox", 140)
    ]
    # Attaching it later to a job that was fine is refused the same way.
    job = await owner.post(
        "/v1/jobs", {"content": "A clip", "media_ids": [fine["media_id"]], "targets": target}
    )
    edit = await owner.request(
        "PATCH", f"/v1/jobs/{job['job_id']}", json_body={"media_ids": [wrong_codec["media_id"]]}, ok=(422,)
    )
    assert edit["errors"][0]["field"] == "targets[0].media[0].video_codec"


async def test_media_without_alt_text_is_a_warning_approvers_see_in_the_round_and_the_review_page(
    brand: BrandSetup, api: Gateway
) -> None:
    owner = brand.owner.api
    described = await upload(owner, png(9_000), "a.png", "image/png", alt_text="the team on the roof")
    bare = await upload(owner, png(9_001), "b.png", "image/png")
    job = await owner.post(
        "/v1/jobs",
        {
            "content": f"Team day {uuid.uuid4().hex[:6]}",
            "requires_approval": True,
            "media_ids": [described["media_id"], bare["media_id"]],
            "targets": [{"platform": "sandbox", "connection_id": brand.connection_id}],
        },
    )
    await owner.post(f"/v1/jobs/{job['job_id']}/submit")
    round_ = await pending_round(brand.client, job["job_id"])

    read = await brand.client.api.get(f"/v1/approvals/{round_['id']}")
    (warning,) = read["targets"][0]["warnings"]
    assert (warning["code"], warning["field"], warning["media_id"]) == (
        "missing_alt_text",
        "media[1].alt_text",
        bare["media_id"],
    )
    link = await owner.post(f"/v1/approvals/{round_['id']}/links", {})
    page = await api.get(link["url"].removeprefix(api.base_urls[0]))
    assert page["platforms"][0]["warnings"] == [warning["message"]]
    assert "no alt text" in warning["message"]
    assert read["status"] == "pending", "a warning does not block the round"


async def _put_parts(
    started: dict[str, Any], data: bytes, numbers: set[int] | None = None
) -> list[dict[str, Any]]:
    """PUT a multipart upload's parts straight to the store (not through the gateway)."""
    size, sent = started["part_size"], []
    async with httpx.AsyncClient(timeout=60) as direct:
        for part in started["parts"]:
            n = part["part_number"]
            if numbers is None or n in numbers:
                answer = await direct.put(part["url"], content=data[(n - 1) * size : n * size])
                assert answer.status_code == 200, answer.text
                sent.append({"part_number": n, "etag": answer.headers["ETag"]})
    return sent


async def test_a_big_video_goes_to_the_store_in_parts_is_verified_and_publishes(
    brand: BrandSetup, sandbox: SandboxControl, system: System
) -> None:
    owner = brand.owner.api
    video = mp4(12_000_000, duration_s=30)
    started = await start_upload(owner, video, "video/mp4", filename="keynote.mp4", multipart=True)
    assert started["upload_url"] is None and len(started["parts"]) == 3  # 5 MiB parts in tests
    parts = await _put_parts(started, video)
    media = await owner.post(f"/v1/media/uploads/{started['upload_id']}/complete", {"parts": parts})
    assert (media["sha256"], media["size_bytes"], media["video_codec"]) == (
        hashlib.sha256(video).hexdigest(),
        len(video),
        "h264",
    )
    assert await store_keys(system, brand) == [f"{brand.brand_id}/{media['media_id']}"]

    _, post = await publish_on_sandbox(brand, sandbox, "Keynote", [media["media_id"]])
    assert received(post) == sent(video)


async def test_uploads_never_completed_expire_hold_no_quota_and_leave_nothing_in_the_store(
    brand: BrandSetup, system: System
) -> None:
    owner = brand.owner.api
    photo, video = png(40_000), mp4(6_000_000, duration_s=5)
    single = await start_upload(owner, photo, "image/png")
    parted = await start_upload(owner, video, "video/mp4", multipart=True)
    async with httpx.AsyncClient(timeout=60) as direct:
        assert (
            await direct.put(single["upload_url"], content=photo, headers=single["headers"])
        ).status_code == 200
    await _put_parts(parted, video, numbers={1})  # one part of two, then nothing
    assert await _staging(system, brand) == (1, 1), "the PUT object and the open multipart upload"
    assert (await owner.get("/v1/media-quota"))["used_bytes"] == 0, "an open upload holds no quota"

    # ALIGNED_PUBLISHING_UPLOAD_URL_TTL_S is 30 s in tests; the purge loop runs every second.
    await eventually(
        lambda: _nothing_staged(system, brand), timeout_s=90, what="the expired uploads to be cleaned up"
    )
    for started in (single, parted):
        late = await owner.request("POST", f"/v1/media/uploads/{started['upload_id']}/complete", ok=(404,))
        assert late["status"] == 404
    assert await owner.get("/v1/media") == [] and (await owner.get("/v1/media-quota"))["used_bytes"] == 0


async def _staging(system: System, brand: BrandSetup) -> tuple[int, int]:
    """(objects, open multipart uploads) under the brand's staging prefix."""
    prefix = f"uploads/{brand.brand_id}/"
    async with s3_client(system) as s3:
        bucket = system.infra.object_store.bucket
        objects = (await s3.list_objects_v2(Bucket=bucket, Prefix=prefix)).get("Contents", [])
        uploads = (await s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix)).get("Uploads", [])
    return len([o for o in objects if not o["Key"].endswith("/")]), len(uploads)


async def _nothing_staged(system: System, brand: BrandSetup) -> bool:
    return await _staging(system, brand) == (0, 0)


async def test_the_owner_sets_the_quota_and_concurrent_uploads_never_overshoot_it(brand: BrandSetup) -> None:
    owner = brand.owner.api
    assert (await owner.get("/v1/media-quota"))["quota_bytes"] == 5 * 1024**3, "5 GB by default"
    refused = await brand.client.api.request(
        "PATCH", "/v1/media-quota", json_body={"quota_bytes": 1}, ok=(403,)
    )
    assert refused["status"] == 403, "only an owner (or an operator, aligned-admin) changes it"
    changed = await owner.request("PATCH", "/v1/media-quota", json_body={"quota_bytes": 100_000})
    assert changed["quota_bytes"] == 100_000

    files = [png(30_000) for _ in range(6)]  # room for three
    answers = await asyncio.gather(
        *(owner.upload("/v1/media", f"p{i}.png", f, "image/png") for i, f in enumerate(files))
    )
    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 3
    for over in (a for a in answers if a.status_code == 409):
        assert over.headers["content-type"].startswith("application/problem+json")
        assert (over.json()["size_bytes"], over.json()["used_bytes"], over.json()["quota_bytes"]) == (
            30_000,
            90_000,
            100_000,
        )
    usage = await owner.get("/v1/media-quota")
    listed = await owner.get("/v1/media")
    assert usage == {"quota_bytes": 100_000, "used_bytes": 90_000, "assets": 3}
    assert sum(m["size_bytes"] for m in listed) == 90_000 and len(listed) == 3
