"""The sandbox application: a fake social platform in one FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from aligned_sandbox import comments, feeds
from aligned_sandbox.config import SandboxConfig
from aligned_sandbox.errors import SandboxError, handle_sandbox_error, handle_validation_error
from aligned_sandbox.fault_middleware import FaultInjectionMiddleware
from aligned_sandbox.routes import api, control, oauth, pages
from aligned_sandbox.state import Sandbox

WEBHOOK_TIMEOUT = httpx.Timeout(5.0)


def create_app(
    config: SandboxConfig | None = None, *, webhook_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """`webhook_transport` lets a test receive the sandbox's webhooks without a network."""
    webhook_client = httpx.AsyncClient(transport=webhook_transport, timeout=WEBHOOK_TIMEOUT)
    sandbox = Sandbox(config or SandboxConfig(), webhook_client)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await webhook_client.aclose()

    app = FastAPI(title="Aligned sandbox platform", version="1", lifespan=lifespan)
    app.state.sandbox = sandbox
    app.add_middleware(FaultInjectionMiddleware, faults=lambda: sandbox.faults)
    app.add_exception_handler(SandboxError, handle_sandbox_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.include_router(oauth.router)
    app.include_router(api.router)
    app.include_router(control.router)
    app.include_router(pages.router)
    app.include_router(comments.api)
    app.include_router(comments.control)
    app.include_router(feeds.public)
    app.include_router(feeds.control)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
