"""One outbound HTTP try: POST the signed body to the address the SSRF guard checked."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from aligned_webhooks.adapters.ssrf import CheckedTarget


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


def _pinned(target: CheckedTarget) -> tuple[httpx.URL, dict[str, str], dict]:
    """The URL with its host replaced by the checked address, the Host header and TLS name to keep
    virtual hosting and certificate checks working against the original name."""
    url = httpx.URL(target.url)
    address = str(target.address)
    host_header = url.netloc.decode("ascii").rsplit("@", 1)[-1]
    extensions = {"sni_hostname": target.host} if url.scheme == "https" else {}
    return url.copy_with(host=address), {"host": host_header}, extensions


async def post(
    client: httpx.AsyncClient,
    target: CheckedTarget,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout_s: float,
    excerpt_bytes: int,
) -> SendResult:
    url, host_header, extensions = _pinned(target)
    started = time.perf_counter()
    try:
        # The total deadline covers a receiver that answers byte by byte, which per-read
        # timeouts alone would let run for ever.
        async with asyncio.timeout(timeout_s):
            request = client.build_request(
                "POST", url, content=body, headers={**headers, **host_header, "content-type": "application/json"},
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
