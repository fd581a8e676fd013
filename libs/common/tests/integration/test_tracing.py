"""One trace runs HTTP request -> outbox -> Kafka -> consumer."""

import asyncio
import uuid

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, Depends
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aligned_common.app import ServiceContext, ServiceDefinition, context_of, create_app
from aligned_common.db import UnitOfWork
from aligned_common.events.publishing import JobCancelled
from aligned_common.inbox import EventRouter
from aligned_common.migrations import migrate
from aligned_common.settings import ServiceSettings
from aligned_common.telemetry import setup_tracing
from aligned_testing.consumer_groups import start_groups_at_end
from aligned_testing.service import free_port

pytestmark = pytest.mark.integration


async def test_a_trace_started_by_an_http_request_is_continued_by_the_consumer(infra, scratch_schema, topics):
    exporter = InMemorySpanExporter()
    setup_tracing("tracing-test", exporter=exporter)
    await migrate(infra.database_url, scratch_schema, None)
    seen_trace_ids: dict[str, int] = {}

    http = APIRouter()

    @http.post("/jobs/{job_id}/cancel", status_code=202)
    async def cancel(job_id: uuid.UUID, ctx: ServiceContext = Depends(context_of)):
        brand = uuid.uuid4()
        async with UnitOfWork(ctx.pool, ctx.schema, brand_id=brand) as uow:
            await uow.emit(JobCancelled(job_id=job_id), brand_id=brand, tenant_id=uuid.uuid4())
        return {"accepted": True}

    events = EventRouter(service=scratch_schema)

    @events.on(JobCancelled, name="remember_trace")
    async def remember_trace(uow, envelope, data):
        seen_trace_ids[str(data.job_id)] = trace.get_current_span().get_span_context().trace_id

    await start_groups_at_end(infra.kafka_bootstrap, f"aligned-{scratch_schema}", events.topics())
    port = free_port()
    settings = ServiceSettings(
        database_url=infra.database_url,
        kafka_bootstrap=infra.kafka_bootstrap,
        http_port=port,
        relay_poll_interval_s=0.2,
    )
    app = create_app(
        ServiceDefinition(name=scratch_schema, settings=settings, http_router=http, event_router=events)
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    serving = asyncio.create_task(server.serve())
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            # The caller is outside: its own traceparent, not the one httpx's instrumentation adds.
            HTTPXClientInstrumentor.uninstrument_client(client)
            for _ in range(100):
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            job_id = str(uuid.uuid4())
            trace_id = uuid.uuid4().hex
            response = await client.post(
                f"/jobs/{job_id}/cancel", headers={"traceparent": f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"}
            )
            assert response.status_code == 202
            for _ in range(600):
                if job_id in seen_trace_ids:
                    break
                await asyncio.sleep(0.1)
    finally:
        server.should_exit = True
        await serving

    assert job_id in seen_trace_ids, "the consumer never handled the event"
    assert format(seen_trace_ids[job_id], "032x") == trace_id
    trace.get_tracer_provider().force_flush()
    names = {s.name for s in exporter.get_finished_spans() if format(s.context.trace_id, "032x") == trace_id}
    assert "POST /jobs/{job_id}/cancel" in names  # the route template, not the id
    assert "consume aligned.publishing.events" in names
    # While traces are exported, the database statements of the request are in the trace too.
    assert any(
        n.startswith(("INSERT", "BEGIN", "SELECT")) or "aligned" in n.lower()
        for n in names - {"POST /jobs/{job_id}/cancel", "consume aligned.publishing.events"}
    ), names
