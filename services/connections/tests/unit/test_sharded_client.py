"""The client connections publishes with is the one the media adapters stream through."""

import httpx
import pytest
import respx

from aligned_connections.adapters.platforms.media import media_chunks
from aligned_connections.adapters.platforms.models import MediaAttachment
from aligned_connections.adapters.sharded_client import ShardedClient

pytestmark = pytest.mark.unit


async def test_media_streams_from_the_store_through_the_sharded_client():
    # Publishing a post with media streams each item from its presigned URL through the
    # runtime's client; a client without `stream` left every such attempt hanging in flight.
    body = bytes(range(256)) * 4096
    client = ShardedClient(4, max_connections=8)
    try:
        with respx.mock() as router:
            router.get("http://store.test/aligned-media/b/m").mock(
                return_value=httpx.Response(200, content=body)
            )
            item = MediaAttachment(
                url="http://store.test/aligned-media/b/m", size_bytes=len(body), mime_type="image/png"
            )
            received = b"".join([chunk async for chunk in media_chunks(client, item, "sandbox")])
    finally:
        await client.aclose()
    assert received == body
