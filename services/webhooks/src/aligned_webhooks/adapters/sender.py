"""One outbound HTTP try: POST the signed body to the address the SSRF guard checked."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass

import httpx

from aligned_common.ssrf import CheckedTarget, pinned


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    latency_ms: float
    excerpt: str | None
    error: str | None
    retry_after: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class PerHostTransport(httpx.AsyncBaseTransport):
    """Connection pools per host name, not per address.

    A pinned request goes to an IP address, and httpcore pools connections by (scheme, address,
    port). Shared, a TLS connection opened for one brand's host — its certificate checked for
    that name only — would carry the next request for another host on the same address (a CDN,
    a shared load balancer) without any check of that host's certificate. Here each
    (scheme, host name, address, port) has a pool of its own; the least recently used pools
    beyond `max_hosts` are closed.
    """

    def __init__(self, *, limits: httpx.Limits, max_hosts: int = 512) -> None:
        self._limits = limits
        self._max_hosts = max_hosts
        self._pools: OrderedDict[tuple, httpx.AsyncHTTPTransport] = OrderedDict()

    @staticmethod
    def key(request: httpx.Request) -> tuple:
        name = request.extensions.get("sni_hostname") or request.headers.get("host", "")
        return request.url.scheme, name.lower(), request.url.host, request.url.port

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = self.key(request)
        transport = self._pools.get(key)
        if transport is None:
            transport = self._pools[key] = httpx.AsyncHTTPTransport(limits=self._limits, retries=0)
            while len(self._pools) > self._max_hosts:
                _, oldest = self._pools.popitem(last=False)
                await oldest.aclose()
        self._pools.move_to_end(key)
        return await transport.handle_async_request(request)

    @property
    def pools(self) -> int:
        return len(self._pools)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for transport in pools:
            await transport.aclose()


async def post(
    client: httpx.AsyncClient,
    target: CheckedTarget,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout_s: float,
    excerpt_bytes: int,
) -> SendResult:
    url, host_header, extensions = pinned(target)
    started = time.perf_counter()
    try:
        # The total deadline covers a receiver that answers byte by byte, which per-read
        # timeouts alone would let run for ever.
        async with asyncio.timeout(timeout_s):
            request = client.build_request(
                "POST",
                url,
                content=body,
                headers={**headers, **host_header, "content-type": "application/json"},
                extensions=extensions,
            )
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                excerpt = await _read_excerpt(response, excerpt_bytes)
            finally:
                await response.aclose()
    except TimeoutError:
        return SendResult(None, _ms(started), None, f"timed out after {timeout_s:g} s", None)
    except httpx.HTTPError as error:
        return SendResult(None, _ms(started), None, f"{type(error).__name__}: {error}"[:500], None)
    return SendResult(response.status_code, _ms(started), excerpt, None, response.headers.get("retry-after"))


async def _read_excerpt(response: httpx.Response, limit: int) -> str:
    collected = b""
    async for chunk in response.aiter_raw():
        collected += chunk
        if len(collected) >= limit:
            break
    return collected[:limit].decode("utf-8", errors="replace")


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
