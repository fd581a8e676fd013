"""The whole platform as separate processes, started once for the end-to-end and acceptance tests.

Real Kafka and PostgreSQL, every service and the sandbox platform each in its own OS process
(aligned_testing.system); the tests act only through the gateway, like a frontend,
plus the sandbox's control API for what the outside world does (consent, faults, webhooks).
Logs of the processes: .local/e2e-logs/.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Awaitable

import pytest

from aligned_common.kafka import ensure_topics
from aligned_testing.flows import onboard_brand
from aligned_testing.gateway_client import BrandSetup, Gateway, SandboxControl
from aligned_testing.infra import REPO_ROOT, Infra
from aligned_testing.system import System, start_system

LOG_DIR = REPO_ROOT / ".local" / "e2e-logs"


async def _closed(closing: Awaitable[None], what: str, timeout_s: float = 15) -> None:
    """A session's last teardown must not hang the run after every test passed: a client whose
    pool still waits on a connection (a live stream left open) is given up on, with a warning."""
    try:
        await asyncio.wait_for(closing, timeout_s)
    except TimeoutError:
        warnings.warn(f"closing {what} took over {timeout_s:.0f} s; left to the process exit", stacklevel=1)


@pytest.fixture(scope="session")
async def system(infra: Infra) -> AsyncIterator[System]:
    await ensure_topics(infra.kafka_bootstrap)
    # Starting and stopping processes blocks; the session's event loop keeps running meanwhile.
    started = await asyncio.to_thread(start_system, infra, LOG_DIR)
    yield started
    await asyncio.to_thread(started.stop)


@pytest.fixture(scope="session")
async def api(system: System) -> AsyncIterator[Gateway]:
    """The gateway, anonymous; `.as_(token)` for a caller. Retries what a restart interrupts."""
    gateway = Gateway(system.url("gateway"), retry_for_s=30)
    yield gateway
    await _closed(gateway.aclose(), "the gateway's test clients")


@pytest.fixture(scope="session")
async def sandbox(system: System) -> AsyncIterator[SandboxControl]:
    control = SandboxControl(system.url("sandbox"))
    yield control
    await _closed(control.aclose(), "the sandbox's control client")


@pytest.fixture
async def brand(api: Gateway, sandbox: SandboxControl) -> BrandSetup:
    """A fresh tenant and brand with an owner, a client who approves, and a connected sandbox account."""
    return await onboard_brand(api, sandbox.base_url, label="e2e")
