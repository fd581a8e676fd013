"""Calls to the services behind the gateway: one pooled httpx client, a timeout on every
call, the verified identity in signed headers, retries only for idempotent reads."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

import httpx

from aligned_common.identity import Identity, Origin, bind_request, origin_header, signed_headers
from aligned_common.telemetry import current_traceparent

RETRYABLE_STATUS = frozenset({502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Request headers a service may need; everything else (cookies, the bearer token, any
# X-Aligned-* a caller tried to smuggle in) stays at the gateway.
FORWARDED_REQUEST_HEADERS = (
    "content-type",
    "accept",
    "accept-language",
    "idempotency-key",
    "if-match",
    "if-none-match",
    "user-agent",
)
# Inbound platform webhooks are verified by the webhooks service with the platform's own headers.
PUBLIC_FORWARD_PREFIXES = ("webhook-", "x-")
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "content-length",
        "content-encoding",
        "server",
        "date",
    }
)


class UpstreamUnavailable(Exception):
    """`sent` is False only when the request surely never reached the service (no connection)."""

    def __init__(self, service: str, reason: str, *, sent: bool = True) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason
        self.sent = sent


@dataclass(frozen=True)
class UpstreamResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Upstreams:
    def __init__(
        self, urls: dict[str, str], *, timeout_s: float, connect_timeout_s: float, read_retries: int
    ) -> None:
        self.urls = urls
        self._read_retries = read_retries
        self._timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s)
        self.client = httpx.AsyncClient(
            timeout=self._timeout, limits=httpx.Limits(max_connections=200, max_keepalive_connections=100)
        )

    async def close(self) -> None:
        await self.client.aclose()

    def headers_for(
        self, identity: Identity | None, request_id: str | None, origin: Origin | None = None
    ) -> dict[str, str]:
        headers = signed_headers(identity) if identity is not None else {}
        if origin is not None:
            headers.update(origin_header(origin))  # signed with the request in bind_request
        if request_id:
            headers["X-Request-Id"] = request_id
        traceparent = current_traceparent()
        if traceparent:
            headers["traceparent"] = traceparent
        return headers

    async def forward(
        self,
        service: str,
        method: str,
        path: str,
        query: bytes,
        body: bytes,
        incoming: dict[str, str],
        identity: Identity | None,
        request_id: str | None,
        public: bool = False,
        origin: Origin | None = None,
    ) -> UpstreamResponse:
        headers = {k: v for k, v in incoming.items() if k in FORWARDED_REQUEST_HEADERS}
        if public:
            headers.update(
                {
                    k: v
                    for k, v in incoming.items()
                    if k.startswith(PUBLIC_FORWARD_PREFIXES) and not k.startswith("x-aligned-")
                }
            )
        headers.update(self.headers_for(identity, request_id, origin))
        # `path` is percent-encoded already, one segment at a time (domain/paths.py).
        url = httpx.URL(self.urls[service] + path, query=query)
        response = await self._send(service, method, url, headers, body)
        out_headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in HOP_BY_HOP]
        return UpstreamResponse(response.status_code, out_headers, response.content)

    async def get_json(
        self,
        service: str,
        path: str,
        identity: Identity,
        request_id: str | None,
        params: dict | None = None,
        timeout_s: float | None = None,
    ) -> tuple[int, object]:
        url = httpx.URL(self.urls[service] + path, params=params or {})
        timeout = httpx.Timeout(timeout_s) if timeout_s else None
        response = await self._send(service, "GET", url, self.headers_for(identity, request_id), b"", timeout)
        try:
            return response.status_code, response.json()
        except ValueError:
            raise UpstreamUnavailable(service, f"answered {response.status_code} without JSON") from None

    async def _send(self, service, method, url, headers, body, timeout=None) -> httpx.Response:
        attempts = 1 + (self._read_retries if method in IDEMPOTENT_METHODS else 0)
        for attempt in range(1, attempts + 1):
            try:
                request = self.client.build_request(
                    method, url, headers=headers, content=body or None, timeout=timeout or self._timeout
                )
                # Signed for this method, path, service and body, afresh for each attempt.
                bind_request(request, service)
                response = await self.client.send(request)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # No connection: the request never left the gateway.
                if attempt == attempts:
                    raise UpstreamUnavailable(
                        service, f"unreachable ({type(exc).__name__})", sent=False
                    ) from None
            except httpx.TimeoutException:
                # A write that timed out may have happened: never resend it (only reads retry).
                if attempt == attempts:
                    raise UpstreamUnavailable(service, "timed out") from None
            except httpx.TransportError as exc:
                if attempt == attempts:
                    raise UpstreamUnavailable(service, f"failed mid-request ({type(exc).__name__})") from None
            else:
                if response.status_code not in RETRYABLE_STATUS or attempt == attempts:
                    return response
            await asyncio.sleep(0.05 * 2 ** (attempt - 1) * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable")
