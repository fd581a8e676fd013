"""A background loop that dies is restarted and its reason logged, not lost."""

import asyncio
import logging

import pytest

from aligned_common import app
from aligned_common.app import ServiceContext, supervised
from aligned_common.settings import ServiceSettings

pytestmark = pytest.mark.unit


async def test_a_loop_that_dies_is_logged_and_started_again(monkeypatch, caplog):
    monkeypatch.setattr(app, "LOOP_RESTART_MAX_S", 0.01)
    runs = []

    async def deliveries(ctx: ServiceContext) -> None:
        runs.append(ctx.schema)
        if len(runs) == 1:
            raise RuntimeError("connection dropped mid-claim")

    ctx = ServiceContext(settings=ServiceSettings(), schema="webhooks")
    with caplog.at_level(logging.ERROR, logger="aligned_common.app"):
        await asyncio.wait_for(supervised(deliveries, ctx), 5)

    assert runs == ["webhooks", "webhooks"]
    [record] = [r for r in caplog.records if r.name == "aligned_common.app"]
    assert record.ctx_loop == "deliveries" and "connection dropped mid-claim" in record.exc_text


async def test_cancelling_a_supervised_loop_stops_it():
    started = asyncio.Event()

    async def forever(ctx: ServiceContext) -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(supervised(forever, ServiceContext(settings=ServiceSettings(), schema="s")))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
