"""A short-TTL cache of upstream read models that tolerate a few seconds of staleness
(connection health, analytics summaries). An entry is dropped as soon as the gateway
sees a domain event from that service for that brand, so the TTL only bounds what a
missed event could leave stale."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

CACHED_SERVICES = frozenset({"connections", "analytics"})
# (brand id, service, ...what else tells two reads apart): invalidated by brand and service.
Key = tuple[object, ...]
T = TypeVar("T")


class ReadCache:
    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._entries: dict[Key, tuple[float, object]] = {}

    async def get_or_load(self, key: Key, load: Callable[[], Awaitable[T]]) -> T:
        hit = self._entries.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return cast(T, hit[1])  # stored by a load for this same key
        value = await load()
        if len(self._entries) >= self._max_entries:
            self._evict_expired()
        self._entries[key] = (time.monotonic() + self._ttl_s, value)
        return value

    def invalidate(self, brand_id: uuid.UUID, service: str) -> None:
        for key in [k for k in self._entries if k[0] == brand_id and k[1] == service]:
            self._entries.pop(key, None)

    def _evict_expired(self) -> None:
        now = time.monotonic()
        for key in [k for k, (expires, _) in self._entries.items() if expires <= now]:
            self._entries.pop(key, None)
        while len(self._entries) >= self._max_entries:
            self._entries.pop(next(iter(self._entries)))
