"""The sandbox's notion of now, which tests may move forward instead of sleeping."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    def __init__(self) -> None:
        self._offset_s = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the epoch, shifted by every advance() so far."""
        return time.time() + self._offset_s

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset_s += seconds


def to_datetime(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, tz=UTC)
