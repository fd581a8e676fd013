"""pytest fixtures shared by every service's tests (loaded from the root conftest.py)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from aligned_common.kafka import ensure_topics
from aligned_testing.infra import Infra, start_infra
from aligned_testing.schemas import drop_schema


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    started = start_infra()
    # Services built inside tests read these like a deployed service would.
    os.environ["ALIGNED_DATABASE_URL"] = started.database_url
    os.environ["ALIGNED_KAFKA_BOOTSTRAP"] = started.kafka_bootstrap
    os.environ.update(started.object_store.env())
    yield started
    if started.kind == "testcontainers":
        started.close()


@pytest.fixture(scope="session")
async def topics(infra: Infra) -> None:
    await ensure_topics(infra.kafka_bootstrap)


@pytest.fixture
async def pg_pool(infra: Infra) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(infra.database_url, min_size=1, max_size=20)
    yield pool
    await pool.close()


@pytest.fixture
async def scratch_schema(infra: Infra) -> AsyncIterator[str]:
    """A schema of its own for one test (a pretend service), dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield schema
    await drop_schema(infra.database_url, schema)


@pytest.fixture(scope="session", autouse=True)
def internal_secret_env() -> Iterator[None]:
    """Services verify the gateway's signed identity headers with this secret."""
    os.environ.setdefault("ALIGNED_INTERNAL_SECRET", uuid.uuid4().hex)
    yield
