from __future__ import annotations

import pytest

from aligned_testing.gateway import running_gateway, running_stubs


@pytest.fixture
async def stubs():
    async with running_stubs() as running:
        yield running


@pytest.fixture
async def gateway(infra, topics, scratch_schema, stubs):
    async with running_gateway(scratch_schema, **stubs.urls()) as running:
        yield running
