"""What handlers, routes and loops share at run time. Built empty by bootstrap, completed at
startup (the pool exists only then), torn down at shutdown."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

import asyncpg
import httpx

from aligned_common.db import Role, UnitOfWork
from aligned_connections.adapters.crypto import TokenCipher
from aligned_connections.adapters.registry import PlatformRegistry, build_registry
from aligned_connections.adapters.vault import TokenVault
from aligned_connections.config import Settings

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

    async def request(self, method: str, url, **kwargs) -> httpx.Response:
        return await next(self._next).request(method, url, **kwargs)

    def stream(self, method: str, url, **kwargs):
        """A streamed response (media read from the object store), as httpx.AsyncClient.stream."""
        return next(self._next).stream(method, url, **kwargs)

    async def get(self, url, **kwargs) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url, **kwargs) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()


@dataclass
class Runtime:
    settings: Settings
    schema: str = "connections"
    pool: asyncpg.Pool | None = None
    vault: TokenVault | None = None
    platforms: PlatformRegistry = field(default_factory=lambda: PlatformRegistry({}))
    http: ShardedClient | httpx.AsyncClient | None = None
    state_secret: bytes = b""
    _platform_slots: dict[str, asyncio.Semaphore] = field(default_factory=dict)

    def start(self, schema: str, pool: asyncpg.Pool) -> None:
        settings = self.settings
        self.schema = schema
        self.pool = pool
        # Fail at startup, not at the first token: a service without keys cannot do its job.
        self.vault = TokenVault(
            TokenCipher.from_config(
                settings.encryption_keys.get_secret_value() if settings.encryption_keys else None,
                settings.active_key_id,
            )
        )
        if settings.state_secret is None or len(settings.state_secret.get_secret_value()) < 16:
            raise RuntimeError("ALIGNED_CONNECTIONS_STATE_SECRET must be set (at least 16 characters)")
        self.state_secret = settings.state_secret.get_secret_value().encode()
        # Room for every platform's calls at their cap (and media downloads) without queueing in
        # httpx's pool, whose wait times out after the connect timeout: calls wait for a slot at
        # `platform_slot` instead. Kept-alive sockets stay at httpx's default of 20: keeping one
        # per call in flight made 128 concurrent 1 s calls to the sandbox go at 40/s instead of
        # 100/s (measured, docs/performance.md).
        cap = settings.platform_max_in_flight
        self.http = ShardedClient(HTTP_SHARDS, max_connections=3 * cap + 32)
        self.platforms = build_registry(settings, self.http)

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.aclose()

    def platform_slot(self, platform: str) -> asyncio.Semaphore:
        """`async with rt.platform_slot(name):` around a platform call: at most
        `platform_max_in_flight` calls to one platform at once from this process."""
        slot = self._platform_slots.get(platform)
        if slot is None:
            slot = self._platform_slots[platform] = asyncio.Semaphore(self.settings.platform_max_in_flight)
        return slot

    def uow(self, brand_id=None, role: Role = "app") -> UnitOfWork:
        return UnitOfWork(self.pool, self.schema, brand_id=brand_id, role=role)
