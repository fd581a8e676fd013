"""The app factory: a service is a ServiceDefinition and a few lines of bootstrap.

`create_app` builds a FastAPI app whose lifespan opens the pool, starts the
FastStream broker with the service's inbox consumers, the outbox relay and the
service's background loops, and on shutdown stops them in reverse: consumers
first (in-flight messages finish), then loops, then the relay, then the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from faststream.kafka import KafkaBroker
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator import metrics as prometheus_metrics

from aligned_common.db import create_pool
from aligned_common.identity import BodyDigest
from aligned_common.inbox import ConsumerSettings, EventRouter, InboxConsumer
from aligned_common.kafka import broker_security
from aligned_common.metrics import KAFKA_UP
from aligned_common.outbox import OutboxRelay
from aligned_common.problems import install_problem_handlers, problem_response
from aligned_common.retention import COMMON_RULES, Retention, purge_all
from aligned_common.settings import ServiceSettings
from aligned_common.telemetry import redact_server_span, setup_logging, setup_tracing

log = logging.getLogger(__name__)


class Database:
    """A service's connection pools: made when its definition is built, opened by the app's
    lifespan. The service's dependencies object is built once, in `bootstrap.build()`, and holds
    this from the start, so nothing is patched into it when the service starts."""

    def __init__(self, settings: ServiceSettings, schema: str) -> None:
        self.settings = settings
        self.schema = schema  # tests run a service under a scratch schema
        self._pool: asyncpg.Pool | None = None
        self._read_pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError(f"the {self.schema} database is not open yet (the app's lifespan opens it)")
        return self._pool

    @property
    def read_pool(self) -> asyncpg.Pool:
        """For reads that tolerate replication lag (reports); the primary when no replica is set."""
        return self._read_pool or self.pool

    async def open(self) -> None:
        settings = self.settings
        self._pool = await create_pool(
            settings.database_url, min_size=settings.pool_min_size, max_size=settings.pool_max_size
        )
        if settings.read_database_url:
            self._read_pool = await create_pool(
                settings.read_database_url, min_size=settings.pool_min_size, max_size=settings.pool_max_size
            )

    async def close(self) -> None:
        for pool in (self._read_pool, self._pool):
            if pool is not None:
                await pool.close()
        self._pool = self._read_pool = None


D = TypeVar("D")


@dataclass
class ServiceContext:
    """What routes, handlers and loops of a running service share."""

    settings: ServiceSettings
    schema: str
    pool: asyncpg.Pool | None = None
    # For reads that tolerate replication lag (reports); the primary pool when no replica is set.
    read_pool: asyncpg.Pool | None = None
    broker: KafkaBroker | None = None
    relay: OutboxRelay | None = None
    kafka_up: bool | None = None  # the last ping's answer (None: not asked yet)
    deps: Any = None  # the service's one dependencies object (ServiceDefinition.deps)


Loop = Callable[[ServiceContext], Awaitable[None]]  # the app's own loops (Kafka watch, outbox purge)
# A service's own loop, hook or startup step: given its dependencies object, nothing else.
DepsLoop = Callable[[Any], Awaitable[None]]


def dependency(kind: type[D]) -> Callable[[Request], D]:
    """A FastAPI dependency that hands a route the service's dependencies object, typed:
    `Service = Annotated[Deps, Depends(dependency(Deps))]`."""

    def provide(request: Request) -> D:
        deps = request.app.state.ctx.deps
        if not isinstance(deps, kind):
            raise RuntimeError(f"this app's dependencies are {type(deps).__name__}, not {kind.__name__}")
        return deps

    return provide


@dataclass
class ServiceDefinition:
    name: str  # also the PostgreSQL schema and the consumer group suffix
    settings: ServiceSettings
    migrations_dir: Path | None = None
    http_router: APIRouter | None = None
    event_router: EventRouter | None = None
    # More routers, each its own consumer group (e.g. an audit trail reading every topic).
    extra_event_routers: list[EventRouter] = field(default_factory=list)
    # Each is called with `deps`.
    background: list[DepsLoop] = field(default_factory=list)
    on_startup: DepsLoop | None = None
    # After consumers and loops stopped, before the pool closes.
    on_shutdown: DepsLoop | None = None
    with_relay: bool = True
    # Tables of the service's own that lose old rows (aligned_common.retention), beside the
    # outbox's and the inbox's.
    retention: list[Retention] = field(default_factory=list)
    title: str | None = None
    # bootstrap.build() makes the Database and the service's one dependencies object that holds
    # it (ADR 0017); routes get it through `dependency(Deps)`, consumers are built with it, and
    # the loops and hooks above are called with it.
    database: Database | None = None
    deps: Any = None


LOOP_RESTART_MAX_S = 30.0


async def supervised(loop: Callable[[Any], Awaitable[None]], given: Any) -> None:
    """Run a background loop; one that dies is logged with its reason and started again.

    A loop is meant to run until cancelled. Left to itself, a task that raised would end
    silently (its exception only surfaces at shutdown): a dispatcher or delivery loop gone
    quiet is a failure nobody sees.
    """
    name = getattr(loop, "__name__", "loop")
    failures = 0
    while True:
        try:
            await loop(given)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            failures += 1
            delay = min(LOOP_RESTART_MAX_S, 0.5 * 2 ** min(failures, 6))
            log.exception(
                "background loop died; restarting", extra={"ctx_loop": name, "ctx_restart_in_s": delay}
            )
            await asyncio.sleep(delay)


KAFKA_CHECK_INTERVAL_S = 10.0


async def check_kafka(ctx: ServiceContext) -> bool:
    """Ping the broker; the answer goes to the aligned_kafka_up gauge (and /readyz's body)."""
    try:
        up = bool(ctx.broker is not None and await ctx.broker.ping(timeout=2.0))
    except Exception:
        up = False
    if up != ctx.kafka_up:
        (log.info if up else log.warning)(
            "kafka " + ("reachable" if up else "unreachable"), extra={"ctx_service": ctx.schema}
        )
    ctx.kafka_up = up
    KAFKA_UP.labels(ctx.schema).set(1 if up else 0)
    return up


async def watch_kafka(ctx: ServiceContext) -> None:
    while True:
        await check_kafka(ctx)
        await asyncio.sleep(KAFKA_CHECK_INTERVAL_S)


OUTBOX_PURGE_INTERVAL_S = 600.0


def purge_expired(rules: list[Retention]) -> Callable[[ServiceContext], Awaitable[None]]:
    """The retention loop (aligned_common.retention): published outbox rows after
    `outbox_retention_s` (ADR 0003), the inbox's dedupe rows after
    `processed_events_retention_s`, and the service's own rules. Replicas each run it; their
    deletes overlap harmlessly (a row is deleted once)."""

    async def purge_expired(ctx: ServiceContext) -> None:
        while True:
            await purge_all(ctx.pool, ctx.schema, ctx.settings, rules)
            await asyncio.sleep(OUTBOX_PURGE_INTERVAL_S)

    return purge_expired


async def purge_outbox(ctx: ServiceContext) -> None:
    """Only the outbox's rule (the relay-less services' tests drive it alone)."""
    await purge_expired([COMMON_RULES[0]])(ctx)


def context_of(request: Request) -> ServiceContext:
    """FastAPI dependency: the running service's context."""
    return request.app.state.ctx


# Attempts the lifespan makes before it serves anyway (about 10 s): a rollout during a broker
# outage must not crash-loop, since requests need only the database (writes go to the outbox).
BROKER_START_ATTEMPTS = 6
BROKER_RETRY_S = 5.0


async def _start_broker(broker: KafkaBroker, attempts: int) -> bool:
    # The broker may still be starting (make up, a rollout after an outage): wait for it a little.
    for attempt in range(1, attempts + 1):
        try:
            await broker.start()
            return True
        except Exception as exc:
            log.warning("kafka not reachable yet", extra={"ctx_error": repr(exc), "ctx_attempt": attempt})
            with contextlib.suppress(Exception):
                await broker.stop()
            if attempt < attempts:
                await asyncio.sleep(min(BROKER_RETRY_S, 0.5 * attempt))
    return False


async def _start_broker_later(broker: KafkaBroker, consumers: list[InboxConsumer]) -> None:
    """After the service started serving without Kafka: keep trying; consumers join once it is up."""
    while not await _start_broker(broker, 1):
        await asyncio.sleep(BROKER_RETRY_S)
    for consumer in consumers:
        await consumer.start()
    log.info("kafka reachable: consumers started")


# Probes and scrapes: neither traced nor counted (they would drown the requests that matter).
NOT_INSTRUMENTED = ("/healthz", "/readyz", "/metrics")


def instrument_http(app: FastAPI) -> None:
    """Server spans (continuing the caller's traceparent, named by route template) and the
    Prometheus request metrics `http_requests_total` and `http_request_duration_seconds`, by
    route template, method and status class: the ecosystem's instrumentations, not our own."""
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls=",".join(NOT_INSTRUMENTED), server_request_hook=redact_server_span
    )
    instrumentator = Instrumentator(excluded_handlers=list(NOT_INSTRUMENTED), should_group_untemplated=True)
    instrumentator.add(_request_metrics()).instrument(app)


@functools.cache
def _request_metrics() -> Any:
    # Registered once per process and shared: a second `metrics.default()` finds its names
    # taken in the registry and records nothing (several apps per process: the tests).
    return prometheus_metrics.default()


def operation_id(route: APIRoute) -> str:
    """An operation's id in the API document is its route function's name in lowerCamelCase
    (`create_job` -> `createJob`), which a generated client turns into a method name; FastAPI's
    default (`create_job_v1_jobs_post`) changes whenever the path does. Unique across the
    merged document: tests/contract/test_openapi_document.py checks it."""
    first, *rest = route.name.split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


def create_app(definition: ServiceDefinition) -> FastAPI:
    settings = definition.settings
    ctx = ServiceContext(settings=settings, schema=definition.name)
    database = definition.database or Database(settings, definition.name)
    ctx.deps = definition.deps

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        setup_tracing(f"aligned-{definition.name}")
        await database.open()
        ctx.pool, ctx.read_pool = database.pool, database.read_pool
        ctx.broker = KafkaBroker(
            settings.kafka_bootstrap,
            client_id=f"aligned-{definition.name}",
            security=broker_security(),
            # FastStream logs "Received" and "Processed" for every message at this level: at
            # INFO that was two lines per event whatever ALIGNED_LOG_LEVEL said. Handler
            # errors are still logged at ERROR, and the inbox logs retries and dead letters.
            log_level=logging.DEBUG,
        )
        routers = (
            [definition.event_router] if definition.event_router else []
        ) + definition.extra_event_routers
        consumer_settings = ConsumerSettings(
            max_retries=settings.consumer_max_retries,
            retry_base_s=settings.consumer_retry_base_s,
            max_in_flight=settings.consumer_max_in_flight,
        )
        consumers = [
            InboxConsumer(
                router,
                ctx.pool,
                definition.name,
                ctx.broker,
                consumer_settings,
                bootstrap=settings.kafka_bootstrap,
            )
            for router in routers
        ]
        if definition.on_startup is not None:
            await definition.on_startup(definition.deps)
        broker_later = None
        if await _start_broker(
            ctx.broker, BROKER_START_ATTEMPTS
        ):  # the consumers' dead letters go out through it
            for consumer in consumers:
                await consumer.start()
        else:
            log.error(
                "serving without kafka: events wait in the outbox, consumers start when it is back",
                extra={"ctx_service": definition.name},
            )
            broker_later = asyncio.create_task(
                _start_broker_later(ctx.broker, consumers), name="start-broker"
            )
        if definition.with_relay:
            ctx.relay = OutboxRelay(
                ctx.pool,
                definition.name,
                settings.kafka_bootstrap,
                batch_size=settings.relay_batch_size,
                poll_interval_s=settings.relay_poll_interval_s,
            )
            await ctx.relay.start()
        rules = [*(COMMON_RULES if definition.with_relay else COMMON_RULES[1:]), *definition.retention]
        own_loops = [watch_kafka, purge_expired(rules)]
        loops = [
            asyncio.create_task(supervised(loop, ctx), name=getattr(loop, "__name__", "loop"))
            for loop in own_loops
        ] + [
            asyncio.create_task(supervised(loop, definition.deps), name=getattr(loop, "__name__", "loop"))
            for loop in definition.background
        ]
        log.info("service started", extra={"ctx_service": definition.name})
        try:
            yield
        finally:
            if broker_later is not None:
                broker_later.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await broker_later
            for consumer in consumers:
                await consumer.stop()  # in-flight messages finish (or are cancelled after drain_timeout_s)
            with contextlib.suppress(Exception):
                await ctx.broker.stop()
            for task in loops:
                task.cancel()
            for task in loops:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if ctx.relay is not None:
                await ctx.relay.stop()
            if definition.on_shutdown is not None:
                await definition.on_shutdown(definition.deps)
            await database.close()
            log.info("service stopped", extra={"ctx_service": definition.name})

    app = FastAPI(
        title=definition.title or f"Aligned {definition.name}",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.state.ctx = ctx
    instrument_http(app)
    app.add_middleware(BodyDigest)  # outermost: it must see the body as the server hands it over
    install_problem_handlers(app)
    app.include_router(_ops_router(ctx))
    if definition.http_router is not None:
        app.include_router(definition.http_router)
    return app


def _ops_router(ctx: ServiceContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> Response:
        # Ready = able to answer requests, which needs the database only. Kafka down is not a
        # reason to take the pod out of the Service: writes commit to the outbox and the relay
        # publishes them when the broker is back (aligned_kafka_up and its alert say it is down).
        failing = []
        pools = {"database": ctx.pool} | (
            {"read replica": ctx.read_pool} if ctx.read_pool is not ctx.pool else {}
        )
        for name, pool in pools.items():
            try:
                if pool is None:  # not opened (yet): as unreachable as a pool that does not answer
                    raise ConnectionError(name)
                await asyncio.wait_for(pool.fetchval("SELECT 1"), 2.0)
            except Exception:
                failing.append(name)
        if failing:
            return problem_response(
                503, "Not ready", f"unreachable: {', '.join(failing)}", unreachable=failing
            )
        kafka = {None: "unknown", True: "up", False: "down"}[ctx.kafka_up]
        return Response(f'{{"status":"ready","kafka":"{kafka}"}}', media_type="application/json")

    @router.get("/metrics")
    async def metrics() -> Response:
        if ctx.relay is not None:
            with contextlib.suppress(Exception):
                await ctx.relay.refresh_gauges()
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def serve(definition: ServiceDefinition) -> None:
    import uvicorn

    setup_logging(definition.settings.log_level)
    uvicorn.run(
        create_app(definition),
        host=definition.settings.http_host,
        port=definition.settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=20,
        # A service is reached only by the gateway and our tools: no X-Forwarded-For of theirs
        # names a client (the gateway signs the client's address, identity.Origin).
        proxy_headers=False,
    )
