"""Where media bytes live: an S3-compatible object store (AWS S3, GCS interop, Ceph, MinIO,
s3proxy locally), through aiobotocore. ADR 0007.

One interface, `ObjectStore`; the rows that describe the objects (sha256, size, quota) are in
PostgreSQL and media.py keeps the two consistent. Keys are `<brand_id>/<media_id>`: each upload
writes its own object before it takes any lock, and the rows (unique per brand and sha256)
decide which one stays, so the same bytes are kept once per brand.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any, BinaryIO, Protocol

from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import ClientError

# Bytes per read when an object is streamed out (the store never sends a whole video at once).
CHUNK = 1024 * 1024
# Objects larger than this are written in parts of this size (S3's minimum part is 5 MiB),
# two at a time: a video upload holds at most PARTS_IN_FLIGHT parts in memory.
PART = 5 * 1024 * 1024
PARTS_IN_FLIGHT = 2


class ObjectStore(Protocol):
    async def put(self, key: str, body: BinaryIO, size: int, content_type: str) -> None: ...
    async def exists(self, key: str) -> bool: ...
    async def delete(self, key: str) -> None: ...
    def stream(self, key: str) -> AsyncIterator[bytes]: ...
    async def presigned_get(self, key: str, ttl_s: int) -> str: ...
    async def presigned_put(self, key: str, content_type: str, ttl_s: int) -> str: ...
    async def size_of(self, key: str) -> int | None: ...
    async def download(self, key: str, file: BinaryIO) -> None: ...
    def reference(self, key: str) -> str: ...
    # A multipart upload the client sends straight to the store (presigned parts).
    async def start_multipart(self, key: str, content_type: str) -> str: ...
    async def presigned_part(self, key: str, multipart_id: str, number: int, ttl_s: int) -> str: ...
    async def uploaded_parts(self, key: str, multipart_id: str) -> list[dict]: ...
    async def complete_multipart(self, key: str, multipart_id: str, parts: list[dict]) -> None: ...
    async def abort_multipart(self, key: str, multipart_id: str) -> None: ...


def storage_key(brand_id: uuid.UUID, media_id: uuid.UUID) -> str:
    return f"{brand_id}/{media_id}"


def key_of_reference(reference: str) -> str:
    """`s3://bucket/key` -> key (what S3ObjectStore.reference made); `media://key` (rows from
    before the object store) -> key."""
    scheme, _, rest = reference.partition("://")
    return rest.partition("/")[2] if scheme == "s3" else rest


class S3ObjectStore:
    """A long-lived client per process (`async with S3ObjectStore(...) as store`)."""

    def __init__(
        self,
        *,
        endpoint_url: str | None,
        bucket: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        region: str = "us-east-1",
        public_endpoint_url: str | None = None,
    ) -> None:
        self.bucket = bucket
        self._args = {
            "endpoint_url": endpoint_url or None,
            "aws_access_key_id": access_key_id or None,
            "aws_secret_access_key": secret_access_key or None,
            "region_name": region,
            # botocore >= 1.36 sends integrity checksums by default, which s3proxy (and other
            # S3-compatible servers) refuse; only send them where an operation requires one.
            "config": Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        }
        # Presigned URLs are fetched by connections and, for URL-fetching platforms, by the
        # platform itself: they may need a different host than the one this service uses.
        self._public_args = dict(self._args, endpoint_url=public_endpoint_url or endpoint_url or None)
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None  # aiobotocore clients, made in __aenter__
        self._signer: Any = None

    async def __aenter__(self) -> S3ObjectStore:
        session = get_session()
        self._client = await self._stack.enter_async_context(session.create_client("s3", **self._args))
        if self._public_args["endpoint_url"] == self._args["endpoint_url"]:
            self._signer = self._client
        else:
            self._signer = await self._stack.enter_async_context(
                session.create_client("s3", **self._public_args)
            )
        return self

    async def __aexit__(self, *exc) -> None:
        await self._stack.aclose()

    async def put(self, key: str, body: BinaryIO, size: int, content_type: str) -> None:
        """One PUT for small objects; a multipart upload of PART-sized parts for large ones, so
        neither this process nor the store holds more than a part of a video at a time."""
        if size <= PART:
            await self._client.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentLength=size, ContentType=content_type
            )
            return
        started = await self._client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType=content_type
        )
        upload_id = started["UploadId"]
        try:
            parts: list[dict] = []
            in_flight: set[asyncio.Task] = set()
            number = 0

            async def send(number: int, part: bytes) -> None:
                answer = await self._client.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=part
                )
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})

            # PARTS_IN_FLIGHT parts at a time: the next part is read while the last one is sent.
            while part := await asyncio.to_thread(body.read, PART):
                number += 1
                in_flight.add(asyncio.create_task(send(number, part)))
                if len(in_flight) >= PARTS_IN_FLIGHT:
                    done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        task.result()
            for task in in_flight:
                await task
            parts.sort(key=lambda p: p["PartNumber"])
            await self._client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            for task in in_flight:
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.shield(
                    self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
                )
            raise

    async def exists(self, key: str) -> bool:
        try:
            await self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    async def delete(self, key: str) -> None:
        await self._client.delete_object(Bucket=self.bucket, Key=key)  # idempotent: a missing key is fine

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        response = await self._client.get_object(Bucket=self.bucket, Key=key)
        async with response["Body"] as body:
            while chunk := await body.read(CHUNK):
                yield chunk

    async def size_of(self, key: str) -> int | None:
        """The object's size, or None when there is no such object."""
        try:
            head = await self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return head["ContentLength"]

    async def download(self, key: str, file: BinaryIO) -> None:
        """Into a local (spooled) file, chunk by chunk."""
        async for chunk in self.stream(key):
            file.write(chunk)
        file.seek(0)

    async def presigned_put(self, key: str, content_type: str, ttl_s: int) -> str:
        """A URL the client PUTs the bytes to (with this Content-Type), valid for ttl_s."""
        return await self._signer.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type},
            ExpiresIn=ttl_s,
        )

    async def presigned_get(self, key: str, ttl_s: int) -> str:
        return await self._signer.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=ttl_s
        )

    async def start_multipart(self, key: str, content_type: str) -> str:
        started = await self._client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType=content_type
        )
        return started["UploadId"]

    async def presigned_part(self, key: str, multipart_id: str, number: int, ttl_s: int) -> str:
        """A URL the client PUTs part `number` (1-based) to; its answer's ETag names the part."""
        return await self._signer.generate_presigned_url(
            "upload_part",
            Params={"Bucket": self.bucket, "Key": key, "UploadId": multipart_id, "PartNumber": number},
            ExpiresIn=ttl_s,
        )

    async def uploaded_parts(self, key: str, multipart_id: str) -> list[dict]:
        """[{"PartNumber", "ETag", "Size"}] of what the store holds of the upload, in order;
        empty when there is no such upload (completed or aborted)."""
        parts: list[dict] = []
        marker = 0
        while True:
            try:
                page = await self._client.list_parts(
                    Bucket=self.bucket, Key=key, UploadId=multipart_id, PartNumberMarker=marker
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("404", "NoSuchUpload"):
                    return []
                raise
            parts.extend({k: p[k] for k in ("PartNumber", "ETag", "Size")} for p in page.get("Parts", []))
            if not page.get("IsTruncated"):
                return sorted(parts, key=lambda p: p["PartNumber"])
            marker = page["NextPartNumberMarker"]

    async def complete_multipart(self, key: str, multipart_id: str, parts: list[dict]) -> None:
        await self._client.complete_multipart_upload(
            Bucket=self.bucket,
            Key=key,
            UploadId=multipart_id,
            MultipartUpload={"Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]},
        )

    async def abort_multipart(self, key: str, multipart_id: str) -> None:
        """Drops the upload and every part sent; an upload already gone is fine."""
        try:
            await self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=multipart_id)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchUpload"):
                raise

    def reference(self, key: str) -> str:
        """What the row keeps: where the object is, not a credential to read it."""
        return f"s3://{self.bucket}/{key}"

    async def check(self) -> None:
        """Fails when the bucket is unreachable or missing (a misconfigured endpoint or Secret)."""
        await self._client.head_bucket(Bucket=self.bucket)
