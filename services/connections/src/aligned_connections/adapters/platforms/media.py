"""Media bytes on their way to a platform: read from the object store (a short-lived presigned
GET URL publishing put in the attempt) chunk by chunk while the upload request sends them, so
connections never holds a whole video in memory. An item given as bytes (tests) is sent as is.

A store that does not answer 200, or an object shorter or longer than the attempt said, raises
Retryable: the upload made nothing on the platform, and the next attempt brings fresh URLs.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx

from aligned_connections.adapters.platforms.errors import Retryable
from aligned_connections.adapters.platforms.models import MediaAttachment

CHUNK = 256 * 1024
STORE_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=5.0)


async def media_chunks(
    client: httpx.AsyncClient, item: MediaAttachment, platform: str
) -> AsyncIterator[bytes]:
    if item.url is None:
        yield item.content
        return
    received = 0
    async with client.stream("GET", item.url, timeout=STORE_TIMEOUT) as response:
        if response.status_code != 200:
            raise Retryable(
                f"media could not be read from the object store: HTTP {response.status_code}",
                platform=platform,
                status_code=response.status_code,
            )
        async for chunk in response.aiter_bytes(CHUNK):
            received += len(chunk)
            if item.size_bytes is not None and received > item.size_bytes:
                break
            yield chunk
    if item.size_bytes is not None and received != item.size_bytes:
        raise Retryable(
            f"media from the object store was {received} bytes, expected {item.size_bytes}", platform=platform
        )


def size_of(item: MediaAttachment) -> int | None:
    return len(item.content) if item.url is None else item.size_bytes


def raw_body(
    client: httpx.AsyncClient, item: MediaAttachment, platform: str
) -> tuple[dict[str, str], AsyncIterator[bytes]]:
    """Headers and streamed body of an upload whose body is the file itself."""
    headers = {"Content-Type": item.mime_type}
    if (size := size_of(item)) is not None:
        headers["Content-Length"] = str(size)
    return headers, media_chunks(client, item, platform)


def multipart_body(
    client: httpx.AsyncClient,
    item: MediaAttachment,
    platform: str,
    *,
    field: str,
    filename: str,
    fields: dict[str, str] | None = None,
) -> tuple[dict[str, str], AsyncIterator[bytes]]:
    """multipart/form-data with text fields and one file part streamed from the store (httpx's
    own multipart encoder takes only sync files)."""
    boundary = uuid.uuid4().hex
    head = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in (fields or {}).items()
        )
        + (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: {item.mime_type}\r\n\r\n"
        ).encode()
    )
    tail = f"\r\n--{boundary}--\r\n".encode()

    async def body() -> AsyncIterator[bytes]:
        yield head
        async for chunk in media_chunks(client, item, platform):
            yield chunk
        yield tail

    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    if (size := size_of(item)) is not None:
        headers["Content-Length"] = str(len(head) + size + len(tail))
    return headers, body()
