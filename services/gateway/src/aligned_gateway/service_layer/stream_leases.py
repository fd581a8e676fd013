"""The caps on open live event streams, across replicas: each open stream holds a lease row
that every replica counts when a stream opens (adapters/stream_leases_repo.py).

A replica renews its open streams' leases in one statement every third of the lease's
lifetime and deletes a closed stream's lease at once (the same loop, woken); a replica that
dies stops renewing, and its leases stop counting when they expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from aligned_common.identity import Identity
from aligned_gateway.service_layer.ports import LeaseStore


class StreamLeases:
    def __init__(self, store: LeaseStore, ttl_s: float) -> None:
        self._store = store
        self.ttl_s = ttl_s
        self._held: set[uuid.UUID] = set()
        self._released: set[uuid.UUID] = set()
        self._wake = asyncio.Event()

    async def acquire(
        self, identity: Identity, *, max_per_user: int, max_per_brand: int
    ) -> tuple[uuid.UUID | None, str]:
        """(a new lease, "") or (None, the scope whose cap is reached). The lease counts from
        now for its lifetime; `hold` it once the stream runs, so it is renewed."""
        lease_id = uuid.uuid4()
        full = await self._store.try_acquire(
            lease_id,
            identity.brand_id,
            identity.user_id,
            ttl_s=self.ttl_s,
            max_per_user=max_per_user,
            max_per_brand=max_per_brand,
            released=list(self._released),
        )  # a stream closed a moment ago no longer counts
        return (None, full) if full else (lease_id, "")

    def hold(self, lease_id: uuid.UUID) -> None:
        self._held.add(lease_id)

    def release(self, lease_id: uuid.UUID) -> None:
        """Synchronous, so a stream's cleanup cannot be cancelled half-way: the loop deletes it."""
        self._held.discard(lease_id)
        self._released.add(lease_id)
        self._wake.set()

    @property
    def held(self) -> int:
        return len(self._held)

    async def run(self) -> None:
        """Renew and release until cancelled (a supervised background loop)."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.ttl_s / 3)
            self._wake.clear()
            await self.renew()

    async def renew(self) -> None:
        """One round: the open streams' leases live on, the closed ones' go."""
        released, self._released = self._released, set()
        try:
            await self._store.renew_and_release(list(self._held), list(released), self.ttl_s)
        except BaseException:
            self._released |= released  # deleted in the next round
            raise
