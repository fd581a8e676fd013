"""The bookkeeping of a consumer that runs many messages at once: who waits for whom, and which
offset is safe to commit. Pure logic (asyncio futures only), unit-tested on its own.

- `OrderGate`: a message runs after every earlier message with the same ordering key of its
  brand (an entity: a job, a target, a connection), and a *brand-wide* message (key None) runs
  after every earlier message of its brand and before every later one, like a barrier. Messages
  of different keys overlap. "Earlier" means earlier in the order the consumer admitted them,
  which is offset order within a partition (and a brand's events are all in one partition).
- `OffsetLedger`: per partition, the offsets started and finished; the committable offset is
  the contiguous low-water mark, the lowest offset not yet finished, so a crash redelivers at
  most what was in flight (and what finished above it), never skips a message.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

BRAND_WIDE = None  # the ordering key of a message that needs its brand's whole order


@dataclass
class _BrandLine:
    barrier: asyncio.Future | None = None  # the latest brand-wide message admitted
    keyed: dict[str, asyncio.Future] = field(default_factory=dict)  # key -> its latest message
    since_barrier: set[asyncio.Future] = field(default_factory=set)  # keyed messages after it


class OrderGate:
    def __init__(self) -> None:
        self._brands: dict[str, _BrandLine] = {}

    def admit(self, brand: str, key: str | None) -> tuple[list[asyncio.Future], asyncio.Future]:
        """(what this message must wait for, the future to resolve when it is finished).

        Call in arrival order; resolve the returned future (`done`) whatever the outcome,
        or every later message of the key (or the brand) waits for ever."""
        loop = asyncio.get_running_loop()
        line = self._brands.setdefault(brand, _BrandLine())
        done = loop.create_future()
        if key is BRAND_WIDE:
            waits = [f for f in (line.barrier, *line.since_barrier, *line.keyed.values()) if f is not None]
            line.barrier = done
            line.since_barrier = set()
            line.keyed = {}
        else:
            waits = [f for f in (line.barrier, line.keyed.get(key)) if f is not None]
            line.keyed[key] = done
            line.since_barrier.add(done)
        done.add_done_callback(lambda _: self._forget(brand, key, done))
        return [f for f in dict.fromkeys(waits) if not f.done()], done

    def _forget(self, brand: str, key: str | None, done: asyncio.Future) -> None:
        line = self._brands.get(brand)
        if line is None:
            return
        if key is BRAND_WIDE:
            if line.barrier is done:
                line.barrier = None
        else:
            line.since_barrier.discard(done)
            if line.keyed.get(key) is done:
                del line.keyed[key]
        if line.barrier is None and not line.keyed and not line.since_barrier:
            del self._brands[brand]

    def __len__(self) -> int:
        """Brands with a message admitted and not finished (0 when idle: nothing leaks)."""
        return len(self._brands)


class OffsetLedger:
    """One partition's offsets in flight; `committable` is where a restart must begin."""

    def __init__(self) -> None:
        self._started: deque[int] = deque()
        self._finished: set[int] = set()
        self.committable: int | None = None  # None: nothing finished since assignment

    def start(self, offset: int) -> bool:
        """Record an offset taken; False (and nothing recorded) for one at or below the last
        taken, i.e. one this ledger has seen already."""
        if self._started and offset <= self._started[-1]:
            return False
        if not self._started and self.committable is not None and offset < self.committable:
            return False
        self._started.append(offset)
        return True

    def finish(self, offset: int) -> bool:
        """Mark one offset finished; True when the committable offset moved."""
        self._finished.add(offset)
        moved = False
        while self._started and self._started[0] in self._finished:
            lowest = self._started.popleft()
            self._finished.discard(lowest)
            self.committable = lowest + 1
            moved = True
        return moved

    @property
    def in_flight(self) -> int:
        return len(self._started)
