"""Applies injected faults around the platform's endpoints (never around /_control)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aligned_sandbox.errors import error_body
from aligned_sandbox.faults import Fault, FaultInjector, FaultMode

PLATFORM_PATH_PREFIXES = ("/oauth/", "/api/")


def _error_response(fault: Fault) -> JSONResponse:
    if fault.mode is FaultMode.ERROR_401:
        return JSONResponse(
            error_body("invalid_token", "injected fault: token refused"),
            401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if fault.mode is FaultMode.ERROR_429:
        return JSONResponse(
            error_body("rate_limited", "injected fault: slow down"),
            429,
            headers={"Retry-After": str(fault.retry_after_s)},
        )
    return JSONResponse(error_body("server_error", "injected fault: internal error"), 500)


class FaultInjectionMiddleware:
    def __init__(self, app: ASGIApp, faults: Callable[[], FaultInjector]) -> None:
        self.app = app
        # A callable, because POST /_control/reset replaces the injector.
        self._faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PLATFORM_PATH_PREFIXES):
            await self.app(scope, receive, send)
            return
        fault = self._faults().take(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.mode is FaultMode.SLOW:
            await asyncio.sleep(fault.delay_s)
            await self.app(scope, receive, send)
        elif fault.mode is FaultMode.TIMEOUT_AFTER_ACCEPT:
            await self._answer_late(fault.delay_s, scope, receive, send)
        else:
            await _error_response(fault)(scope, receive, send)

    async def _answer_late(self, delay_s: float, scope: Scope, receive: Receive, send: Send) -> None:
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)  # the request takes effect now...
        await asyncio.sleep(delay_s)  # ...but the client has given up before it hears so
        for message in held:
            await send(message)
