"""Clocks tests can move, for services built with `build(..., clock=...)` (aligned_common.clock):
MovableClock for running services (time flows), StillClock for unit tests on fakes (it does not)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class MovableClock:
    """Real time plus an offset the test sets: time flows, and can jump."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def set(self, at: datetime) -> None:
        self.offset = at - datetime.now(UTC)

    def advance(self, by: timedelta) -> None:
        self.offset += by


class StillClock:
    """Time stands still at `at` until the test moves it: a unit test's every `now()` agrees."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at

    def advance(self, by: timedelta) -> None:
        self.at += by
