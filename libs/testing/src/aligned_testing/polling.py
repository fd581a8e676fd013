"""Waiting for an eventually consistent system: the one poll-until helper of the tests."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(
    check: Callable[[], Awaitable[Any] | Any],
    *,
    timeout_s: float = 30.0,
    interval_s: float = 0.05,
    what: str = "condition",
    tolerate: tuple[type[BaseException], ...] = (),
) -> Any:
    """Poll `check` (async, or a plain function) until it returns something truthy, and return
    that; fail with the last value seen once `timeout_s` has passed. Errors in `tolerate` count as "not yet" (a service
    may be restarting); the last one is reported if time runs out."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while True:
        try:
            last = check()
            if inspect.isawaitable(last):
                last = await last
            if last:
                return last
        except tolerate as error:
            last = error
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"timed out after {timeout_s:g} s waiting for {what}; last seen: {str(last)[:1500]}"
            )
        await asyncio.sleep(interval_s)
