"""Fetch a brand's feed URL: SSRF-guarded, conditional, bounded in size and time.

The URL is the brand's choice, so every hop (the URL and each redirect, at most MAX_REDIRECTS) is
resolved and checked by the shared guard (`aligned_common.ssrf`) and the request goes to the
checked address. ETag and Last-Modified from the previous poll are sent back, so an unchanged
feed costs a 304 and no parsing. Each fetch uses a client of its own: polls are minutes apart,
and an unshared pool cannot carry one host's TLS connection to another host on the same address.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from aligned_common.ssrf import RefusedTarget, TargetPolicy, check_target, pinned

MAX_REDIRECTS = 3
PURPOSE = "be polled as a feed"


@dataclass(frozen=True)
class FetchResult:
    body: bytes | None = None  # None: not modified, or failed
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    problem: str | None = None  # why the fetch failed, shown on the subscription

    @property
    def failed(self) -> bool:
        return self.problem is not None


async def fetch_feed(
    url: str,
    *,
    policy: TargetPolicy,
    etag: str | None,
    last_modified: str | None,
    max_bytes: int,
    timeout_s: float,
) -> FetchResult:
    try:
        # One deadline over every hop and the whole body: a server that answers byte by byte
        # cannot hold the poll loop longer than timeout_s.
        async with asyncio.timeout(timeout_s):
            return await _fetch(url, policy, etag, last_modified, max_bytes)
    except TimeoutError:
        return FetchResult(problem=f"timed out after {timeout_s:g} s")
    except RefusedTarget as refused:
        return FetchResult(problem=str(refused))
    except httpx.HTTPError as error:
        return FetchResult(problem=f"{type(error).__name__}: {error}"[:500])


async def _fetch(
    url: str, policy: TargetPolicy, etag: str | None, last_modified: str | None, max_bytes: int
) -> FetchResult:
    conditional = {k: v for k, v in (("if-none-match", etag), ("if-modified-since", last_modified)) if v}
    async with httpx.AsyncClient(trust_env=False, follow_redirects=False) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            target = await check_target(url, policy, purpose=PURPOSE)
            pinned_url, host_header, extensions = pinned(target)
            request = client.build_request(
                "GET",
                pinned_url,
                headers={
                    **conditional,
                    **host_header,
                    "accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5",
                },
                extensions=extensions,
            )
            response = await client.send(request, stream=True)
            try:
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code == 304:
                    return FetchResult(not_modified=True, etag=etag, last_modified=last_modified)
                if response.status_code != 200:
                    return FetchResult(problem=f"the feed answered HTTP {response.status_code}")
                body = await _bounded_body(response, max_bytes)
                if body is None:
                    return FetchResult(problem=f"the feed is larger than {max_bytes} bytes")
                return FetchResult(
                    body=body,
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                )
            finally:
                await response.aclose()
    return FetchResult(problem=f"more than {MAX_REDIRECTS} redirects")


async def _bounded_body(response: httpx.Response, max_bytes: int) -> bytes | None:
    collected = bytearray()
    async for chunk in response.aiter_bytes():
        collected += chunk
        if len(collected) > max_bytes:
            return None
    return bytes(collected)
