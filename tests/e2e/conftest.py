"""The whole platform as separate processes, started once for the end-to-end tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from aligned_common.kafka import ensure_topics
from aligned_common.testing.infra import REPO_ROOT, Infra
from aligned_common.testing.system import System, start_system


@pytest.fixture(scope="session")
async def system(infra: Infra) -> System:
    await ensure_topics(infra.kafka_bootstrap)
    started = start_system(infra, REPO_ROOT / ".local" / "e2e-logs")
    yield started
    started.stop()


@pytest.fixture(scope="session")
def gateway_url(system: System) -> str:
    return system.url("gateway")
