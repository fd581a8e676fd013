"""Where "now" comes from: every due/retry/grace decision asks a Clock, never SQL now() or
datetime.now(), so one clock decides and a test can move time (publishing's DST test).
A service's bootstrap takes one (`build(..., clock=None)`: the system clock) and hands it to
its handlers and loops in their deps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
