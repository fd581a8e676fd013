"""The background loop that claims due deliveries and sends them with bounded concurrency.

Two bounds: `delivery_concurrency` requests in flight overall, and `delivery_per_endpoint` to
any one endpoint. An endpoint that hangs until the timeout therefore holds a few slots, never
all of them, and the others keep flowing. Several replicas can run this loop: claims use
FOR UPDATE SKIP LOCKED and a lease, so each due delivery goes to one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter

import asyncpg

from aligned_webhooks.adapters.unit_of_work import wake_channel
from aligned_webhooks.domain.deliveries import ClaimedDelivery
from aligned_webhooks.service_layer.delivery import attempt
from aligned_webhooks.service_layer.deps import Deps

log = logging.getLogger(__name__)

CLAIM_TIMEOUT_S = 30.0


class DeliveryLoop:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.in_flight: Counter[uuid.UUID] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    def wake(self, *_args: object) -> None:
        self._wake.set()

    async def run(self) -> None:
        listener = await self._listen()
        try:
            while True:
                self._wake.clear()  # before claiming: a wake during the claim is not lost
                try:
                    # Bounded: a claim stuck on a connection the database dropped would
                    # otherwise stop every delivery without a word.
                    claimed = await asyncio.wait_for(self._claim(), CLAIM_TIMEOUT_S)
                except Exception as error:  # database restarting, connection lost, timeout
                    log.warning("claiming deliveries failed; retrying", extra={"ctx_error": repr(error)})
                    claimed = []
                    await asyncio.sleep(1.0)
                for delivery in claimed:
                    self._start(delivery)
                if claimed and self._free_slots() > 0:
                    continue  # there may be more due right now
                if listener is None or listener.is_closed():
                    listener = await self._listen()  # e.g. after a database restart; polling meanwhile
                await self._sleep()
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close()

    def _free_slots(self) -> int:
        return self.deps.settings.delivery_concurrency - len(self._tasks)

    async def _claim(self) -> list[ClaimedDelivery]:
        free = self._free_slots()
        if free <= 0:
            return []
        settings = self.deps.settings
        # Worker role: the due deliveries of every brand are claimed together.
        async with self.deps.uow(role="worker") as uow:
            return await uow.deliveries.claim_due(
                limit=free,
                per_endpoint=settings.delivery_per_endpoint,
                busy={k: v for k, v in self.in_flight.items() if v > 0},
                lease_s=settings.delivery_lease_s,
                now=self.deps.clock.now(),
            )

    def _start(self, delivery: ClaimedDelivery) -> None:
        self.in_flight[delivery.endpoint_id] += 1
        task = asyncio.create_task(self._deliver(delivery), name=f"delivery-{delivery.id}")
        self._tasks.add(task)

    async def _deliver(self, delivery: ClaimedDelivery) -> None:
        try:
            retry_in = await attempt(self.deps, delivery)
            if retry_in is not None:
                # Wake when the retry is due rather than at the next poll (short in tests).
                asyncio.get_running_loop().call_later(retry_in + 0.01, self.wake)
        except Exception:
            # The lease expires and the delivery is tried again; the receiver dedupes by id.
            log.exception("delivery attempt crashed", extra={"ctx_delivery_id": str(delivery.id)})
        finally:
            self.in_flight[delivery.endpoint_id] -= 1
            if self.in_flight[delivery.endpoint_id] <= 0:
                del self.in_flight[delivery.endpoint_id]
            task = asyncio.current_task()
            if task is not None:
                self._tasks.discard(task)
            self.wake()  # a slot is free

    async def _sleep(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.deps.settings.delivery_poll_interval_s)

    async def _listen(self) -> asyncpg.Connection | None:
        """NOTIFY from the fan-out wakes the loop at once; polling stays as the fallback."""
        try:
            conn = await asyncpg.connect(self.deps.settings.database_url)
            await conn.add_listener(wake_channel(self.deps.database.schema), self.wake)
            return conn
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("LISTEN for deliveries failed; polling only", extra={"ctx_error": repr(error)})
            return None


async def run_delivery_loop(deps: Deps) -> None:
    await DeliveryLoop(deps).run()
