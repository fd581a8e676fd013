"""Where "now" comes from: every due/retry/grace decision asks a Clock, never SQL now(),
so one clock decides and a test can move time (the DST test)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
