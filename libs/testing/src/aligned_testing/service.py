"""Run a whole service in-process for integration tests: HTTP, consumers, relay, loops."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import uvicorn

from aligned_common.app import ServiceContext, ServiceDefinition, create_app
from aligned_common.clock import Clock
from aligned_common.migrations import migrate


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def serving_asgi(app: object) -> AsyncIterator[int]:
    """Serve a bare ASGI app (a stand-in for the outside world) on a free port; yields the port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))  # type: ignore[arg-type]
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # startup failed: raise its error
            await asyncio.sleep(0.02)
        yield port
    finally:
        server.should_exit = True
        await task


@dataclass
class RunningService:
    base_url: str
    ctx: ServiceContext
    clock: Clock | None = None  # the clock it was built with, when a test moves time

    def client(self, **kwargs) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=30, **kwargs)


@asynccontextmanager
async def running_service(
    definition: ServiceDefinition, *, run_migrations: bool = True
) -> AsyncIterator[RunningService]:
    """Migrate, start on a free port, wait until /readyz answers 200, stop on exit."""
    if run_migrations:
        await migrate(definition.settings.database_url, definition.name, definition.migrations_dir)
    port = free_port()
    definition.settings.http_port = port
    # Tests call the service directly with `signed_headers(identity)`, which is not bound to
    # the request; the gateway's bound signatures are checked by the e2e platform.
    definition.settings.require_bound_identity = False
    app = create_app(definition)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    serving = asyncio.create_task(server.serve())
    base_url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base_url) as client:
            for _ in range(300):
                if serving.done():
                    serving.result()  # startup failed: raise its error
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise TimeoutError(f"{definition.name} did not become ready")
        yield RunningService(base_url, app.state.ctx)
    finally:
        server.should_exit = True
        await serving
