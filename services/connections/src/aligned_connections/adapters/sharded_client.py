"""Several httpx clients used in turn: the one HTTP client every platform adapter shares."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

HTTP_SHARDS = 16


class ShardedClient:
    """Several httpx clients used in turn, for many calls in flight at once.

    httpcore's pool scans every connection it holds at each request's start and end: with 128
    calls in flight on one client that cost ~12 ms of CPU per call (measured against the sandbox:
    128 concurrent 1 s calls ran at 38/s); sixteen smaller pools scan a sixteenth each."""

    def __init__(self, shards: int, *, max_connections: int) -> None:
        per_shard = httpx.Limits(max_connections=max(4, max_connections // shards))
        self._clients = [httpx.AsyncClient(follow_redirects=False, limits=per_shard) for _ in range(shards)]
        self._next = itertools.cycle(self._clients)

    async def request(self, method: str, url: Any, **kwargs: Any) -> httpx.Response:
        return await next(self._next).request(method, url, **kwargs)

    def stream(self, method: str, url: Any, **kwargs: Any) -> Any:
        """A streamed response (media read from the object store), as httpx.AsyncClient.stream."""
        return next(self._next).stream(method, url, **kwargs)

    async def get(self, url: Any, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: Any, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
