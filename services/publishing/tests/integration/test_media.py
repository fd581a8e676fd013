"""Media: sniffed types, per-brand dedupe, a quota that concurrent uploads cannot overshoot."""

import asyncio
import os
import uuid

import pytest
from aligned_publishing.testing import Brand, MovableClock, job_body, make_settings, publishing_service

pytestmark = pytest.mark.integration
PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def png(size: int) -> bytes:
    return PNG_HEADER + os.urandom(size - len(PNG_HEADER))


async def _upload(client, brand, data: bytes, name="photo.png"):
    return await client.post("/v1/media", headers=brand.headers, files={"file": (name, data, "image/png")})


@pytest.fixture
async def tiny_quota_svc(infra, topics, scratch_schema, tmp_path):
    settings = make_settings(tmp_path, default_quota_bytes=1000)
    async with publishing_service(infra, scratch_schema, settings, MovableClock()) as running:
        yield running


async def test_two_concurrent_uploads_over_the_quota_one_is_refused_and_usage_is_exact(tiny_quota_svc, producer):
    brand = Brand(producer)
    async with tiny_quota_svc.client() as client:
        responses = await asyncio.gather(_upload(client, brand, png(600)), _upload(client, brand, png(600)))
        assert sorted(r.status_code for r in responses) == [201, 413]
        refused = next(r for r in responses if r.status_code == 413)
        assert refused.headers["content-type"].startswith("application/problem+json")
        usage = (await client.get("/v1/media-quota", headers=brand.headers)).json()
        listed = (await client.get("/v1/media", headers=brand.headers)).json()
    assert usage == {"quota_bytes": 1000, "used_bytes": 600, "assets": 1}
    assert sum(m["size_bytes"] for m in listed) == 600


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
        job = (await client.post("/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox, media_ids=[media_id]))).json()
        in_use = await client.delete(f"/v1/media/{media_id}", headers=brand.headers)
        assert in_use.status_code == 409 and job["job_id"] in in_use.json()["job_ids"]
        assert (await client.delete(f"/v1/media/{media_id}", headers=other.headers)).status_code == 404
        await client.post(f"/v1/jobs/{job['job_id']}/cancel", headers=brand.headers)
        assert (await client.delete(f"/v1/media/{media_id}", headers=brand.headers)).status_code == 204
        assert (await client.get("/v1/media-quota", headers=brand.headers)).json()["used_bytes"] == 0


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
            json=job_body(brand.sandbox, media_ids=images, targets=[{"platform": "mastodon", "connection_id": str(await brand.connect(svc, "mastodon"))}]),
        )
        too_long = await client.post(
            "/v1/jobs",
            headers=brand.headers,
            json=job_body(
                targets=[
                    {"platform": "sandbox", "connection_id": str(brand.sandbox)},
                    {"platform": "bluesky", "connection_id": str(await brand.connect(svc, "bluesky")), "text": "🇩🇪" * 301},
                ]
            ),
        )
        emoji_fits = await client.post(
            "/v1/jobs",
            headers=brand.headers,
            json=job_body(brand.sandbox, targets=[{"platform": "bluesky", "connection_id": str(await brand.connect(svc, "bluesky")), "text": "🇩🇪" * 300}]),
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
    from aligned_common.testing.kafka_reader import TopicReader
    from aligned_publishing.testing import events_of

    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, "aligned.publishing.events") as topic:
        first, second = [(await _upload(client, brand, png(900 + i))).json() for i in range(2)]
        job = (
            await client.post(
                "/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox, media_ids=[second["media_id"], first["media_id"]])
            )
        ).json()
        await client.post(f"/v1/jobs/{job['job_id']}/publish-now", headers=brand.headers)
        records = await topic.read_until(lambda rs: events_of(rs, brand, "publishing.attempt_requested"), settle_s=0)
    raw = next(
        r.value for r in records if b"publishing.attempt_requested" in r.value and r.key == str(brand.brand_id).encode()
    )
    data = EventEnvelope.from_bytes(raw).payload()
    assert [str(m.media_id) for m in data.media] == [second["media_id"], first["media_id"]]
    assert data.media[0].mime_type == "image/png" and data.media[0].size_bytes == 901
    assert data.media[0].url.endswith(second["sha256"])
