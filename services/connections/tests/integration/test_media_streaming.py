"""Media goes from the object store to the platform as a stream: the adapters read the
presigned URL publishing hands out while they upload, against the real s3proxy of the `infra`
fixture; the platforms are respx stand-ins that record what reached them."""

from __future__ import annotations

import hashlib
import os
import uuid
from email.parser import BytesParser
from email.policy import HTTP

import httpx
import pytest
import respx
from aiobotocore.session import get_session
from botocore.config import Config

from aligned_connections.adapters.platforms import (
    BlueskyAdapter,
    MastodonAdapter,
    MediaAttachment,
    PublishRequest,
    Retryable,
    SandboxAdapter,
)

pytestmark = pytest.mark.integration
INSTANCE = "https://mastodon.example"


@pytest.fixture
async def stored(infra):
    """put(bytes) -> a MediaAttachment with a presigned GET URL on the real store."""
    where = infra.object_store
    config = Config(
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        s3={"addressing_style": "path"},
        signature_version="s3v4",
    )
    keys = []
    async with get_session().create_client(
        "s3",
        endpoint_url=where.endpoint_url,
        aws_access_key_id=where.access_key_id,
        aws_secret_access_key=where.secret_access_key,
        region_name="us-east-1",
        config=config,
    ) as s3:

        async def put(data: bytes, mime_type: str) -> MediaAttachment:
            key = f"connections-test/{uuid.uuid4().hex}"
            keys.append(key)
            await s3.put_object(Bucket=where.bucket, Key=key, Body=data)
            url = await s3.generate_presigned_url(
                "get_object", Params={"Bucket": where.bucket, "Key": key}, ExpiresIn=60
            )
            return MediaAttachment(url=url, size_bytes=len(data), mime_type=mime_type)

        yield put
        for key in keys:
            await s3.delete_object(Bucket=where.bucket, Key=key)


def passthrough_store(router: respx.MockRouter, infra) -> None:
    router.route(url__startswith=infra.object_store.endpoint_url).pass_through()


async def test_sandbox_and_bluesky_uploads_carry_the_stored_bytes(infra, stored):
    video, image = os.urandom(3_000_000), os.urandom(200_000)
    received = {}

    def keep(name):
        def handler(request: httpx.Request):
            received[name] = (request.read(), request.headers)
            return httpx.Response(
                200,
                json={
                    "id": "m1",
                    "mime_type": "video/mp4",
                    "size_bytes": 1,
                    "blob": {"$type": "blob", "ref": {"$link": "b"}, "mimeType": "image/png", "size": 1},
                },
            )

        return handler

    async with respx.mock(assert_all_called=False) as router, httpx.AsyncClient() as client:
        passthrough_store(router, infra)
        router.post("https://sandbox.test/api/v1/media").mock(side_effect=keep("sandbox"))
        router.post("https://sandbox.test/api/v1/posts").respond(
            201,
            json={
                "id": "p1",
                "account_id": "a",
                "url": "https://sandbox.test/p1",
                "text": "t",
                "media_ids": ["m1"],
                "status": "published",
                "created_at": "2026-01-01T00:00:00Z",
            },
        )
        router.post("https://bsky.test/xrpc/com.atproto.repo.uploadBlob").mock(side_effect=keep("bluesky"))
        sandbox = SandboxAdapter("https://sandbox.test", "client", http_client=client)
        await sandbox.publish(
            "token", PublishRequest(text="t", idempotency_key="k1", media=(await stored(video, "video/mp4"),))
        )
        bluesky = BlueskyAdapter("https://bsky.test", http_client=client)
        await bluesky._upload("token", await stored(image, "image/png"))

    body, headers = received["sandbox"]
    assert hashlib.sha256(body).digest() == hashlib.sha256(video).digest()
    assert headers["content-type"] == "video/mp4" and headers["content-length"] == str(len(video))
    body, headers = received["bluesky"]
    assert body == image and headers["content-length"] == str(len(image))


async def test_mastodon_gets_a_multipart_upload_streamed_from_the_store(infra, stored):
    image = os.urandom(500_000)
    seen = {}

    def media(request: httpx.Request):
        seen["body"], seen["headers"] = request.read(), request.headers
        return httpx.Response(200, json={"id": "m1", "url": "https://mastodon.example/m1"})

    async with respx.mock(assert_all_called=False) as router, httpx.AsyncClient() as client:
        passthrough_store(router, infra)
        router.post(f"{INSTANCE}/api/v2/media").mock(side_effect=media)
        adapter = MastodonAdapter(INSTANCE, "id", "secret", http_client=client, media_poll_interval_s=0)
        item = (await stored(image, "image/png")).model_copy(update={"alt_text": "a red square"})
        assert await adapter._upload("token", item) == "m1"

    assert seen["headers"]["content-length"] == str(len(seen["body"]))
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {seen['headers']['content-type']}\r\n\r\n".encode() + seen["body"]
    )
    parts = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
    assert parts["description"].get_content() == "a red square"
    assert parts["file"].get_content_type() == "image/png" and parts["file"].get_payload(decode=True) == image


async def test_an_unreadable_presigned_url_is_retryable_and_nothing_is_posted(infra, stored):
    item = await stored(os.urandom(10_000), "image/png")
    broken = item.model_copy(update={"url": item.url.replace("X-Amz-Signature=", "X-Amz-Signature=0")})
    async with respx.mock(assert_all_called=False) as router, httpx.AsyncClient() as client:
        passthrough_store(router, infra)
        router.post("https://sandbox.test/api/v1/media").respond(201, json={"id": "m"})
        posts = router.post("https://sandbox.test/api/v1/posts").respond(201, json={})
        adapter = SandboxAdapter("https://sandbox.test", "client", http_client=client)
        with pytest.raises(Retryable, match="object store: HTTP 403"):
            await adapter.publish("token", PublishRequest(text="t", idempotency_key="k", media=(broken,)))
    assert not posts.called
