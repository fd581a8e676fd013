"""The one place that builds the gateway's dependencies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from aligned_common.app import Database, ServiceDefinition, create_app
from aligned_common.clock import Clock, SystemClock
from aligned_common.db import UnitOfWork
from aligned_common.telemetry import setup_logging
from aligned_gateway.adapters import event_feed, idempotency_repo
from aligned_gateway.adapters.jwt_verifier import JwksKeys, TokenVerifier
from aligned_gateway.adapters.stream_leases_repo import PostgresLeaseStore
from aligned_gateway.adapters.upstream import Upstreams
from aligned_gateway.config import Settings
from aligned_gateway.entrypoints import errors, events_stream, http, proxy
from aligned_gateway.entrypoints.pipeline import GatewayPipeline
from aligned_gateway.service_layer.admin import Admin
from aligned_gateway.service_layer.aggregates import Fanout
from aligned_gateway.service_layer.deps import Deps
from aligned_gateway.service_layer.feed_handlers import FeedHandlers
from aligned_gateway.service_layer.live_events import Hub
from aligned_gateway.service_layer.membership import MembershipCache
from aligned_gateway.service_layer.openapi import served_document
from aligned_gateway.service_layer.rate_limits import Limits
from aligned_gateway.service_layer.read_cache import ReadCache
from aligned_gateway.service_layer.stream_leases import StreamLeases

log = logging.getLogger(__name__)

FASTAPI_DOC_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})


def _routes() -> APIRouter:
    combined = APIRouter()
    combined.include_router(http.router)
    combined.include_router(events_stream.router)
    combined.include_router(proxy.router)  # last: the gateway's own paths win
    return combined


def _deps(settings: Settings, database: Database, clock: Clock) -> Deps:
    """Everything the gateway uses, made once: the pools open later (the app's lifespan),
    and every part that queries reads them from the Database when it runs."""
    members = MembershipCache(database, settings.membership_cache_ttl_s)
    upstreams = Upstreams(
        settings.service_urls(),
        timeout_s=settings.upstream_timeout_s,
        connect_timeout_s=settings.upstream_connect_timeout_s,
        read_retries=settings.read_retries,
    )
    cache = ReadCache(settings.read_cache_ttl_s)
    jwks = JwksKeys(url=settings.jwks_url, file=settings.jwks_file, refresh_s=settings.jwks_refresh_s)
    return Deps(
        settings=settings,
        database=database,
        clock=clock,
        upstreams=upstreams,
        verifier=TokenVerifier(
            secret=settings.jwt_secret,
            jwks=jwks,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            leeway_s=settings.jwt_leeway_s,
        ),
        members=members,
        cache=cache,
        limits=Limits(
            settings.brand_rate_per_s, settings.brand_burst, settings.user_rate_per_s, settings.user_burst
        ),
        admin=Admin(database, members, settings.invite_ttl_s, clock),
        fanout=Fanout(upstreams, cache, settings.fanout_deadline_s),
        openapi=served_document(),
        stream_leases=StreamLeases(PostgresLeaseStore(database), settings.live_lease_ttl_s),
        hub=Hub(settings.live_buffer_per_brand, settings.live_retention_s)
        if settings.live_events_enabled
        else None,
    )


async def live_feed(deps: Deps) -> None:
    if deps.hub is None:
        return
    handlers = FeedHandlers(deps.hub, deps.cache, deps.members)
    settings = deps.settings
    await event_feed.run_feed(settings.kafka_bootstrap, settings.live_retention_s, handlers, deps.feed_ready)


async def renew_stream_leases(deps: Deps) -> None:
    if deps.hub is not None:
        await deps.stream_leases.run()


IDEMPOTENCY_PURGE_INTERVAL_S = 600.0


async def purge_idempotency_keys(deps: Deps) -> None:
    # Old keys of every brand go at once: a cross-brand sweep (worker role).
    database = deps.database
    while True:
        with contextlib.suppress(Exception):
            async with UnitOfWork(database.pool, database.schema, role="worker") as uow:
                await idempotency_repo.purge_older_than(uow.conn, deps.settings.idempotency_ttl_s)
        await asyncio.sleep(IDEMPOTENCY_PURGE_INTERVAL_S)


async def refuse_unverifiable_tokens(deps: Deps) -> None:
    deps.verifier.require_configured()


async def close_upstreams(deps: Deps) -> None:
    await deps.upstreams.close()


def build(
    settings: Settings | None = None, *, name: str = "gateway", clock: Clock | None = None
) -> ServiceDefinition:
    settings = settings or Settings()
    database = Database(settings, name)
    return ServiceDefinition(
        name=name,
        settings=settings,
        migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
        http_router=_routes(),
        background=[live_feed, renew_stream_leases, purge_idempotency_keys],
        on_startup=refuse_unverifiable_tokens,
        on_shutdown=close_upstreams,
        title="Aligned API",
        database=database,
        deps=_deps(settings, database, clock or SystemClock()),
    )


def create_gateway_app(definition: ServiceDefinition) -> FastAPI:
    """The common app plus the gateway's pipeline and CORS (outermost, so a preflight
    needs no token). ServiceDefinition has no middleware hook, hence this wrapper."""
    settings = definition.settings
    if not isinstance(settings, Settings):
        raise TypeError("create_gateway_app takes the gateway's definition (bootstrap.build)")
    app = create_app(definition)
    # FastAPI's built-in /openapi.json and /docs describe only the gateway's own routes:
    # drop them so the merged document (entrypoints/http.py) is the one served.
    app.router.routes = [
        r
        for r in app.router.routes
        if isinstance(r, APIRoute) or getattr(r, "path", None) not in FASTAPI_DOC_PATHS
    ]
    errors.install(app)
    app.add_middleware(GatewayPipeline)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "Idempotency-Key",
            "X-Brand-Id",
            "X-Request-Id",
            "Last-Event-ID",
            "If-Match",
        ],
        expose_headers=[
            "X-Request-Id",
            "Retry-After",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
            "RateLimit-Policy",
            "Idempotent-Replayed",
            "Location",
        ],
    )
    if settings.trusted_proxies.strip():
        # Outermost: the client's address (scope["client"]) is settled before anything reads it.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app


def serve(definition: ServiceDefinition) -> None:
    import uvicorn

    setup_logging(definition.settings.log_level)
    # proxy_headers=False: uvicorn would otherwise trust X-Forwarded-For from 127.0.0.1 by default;
    # which proxies are trusted is ALIGNED_GATEWAY_TRUSTED_PROXIES alone (create_gateway_app).
    uvicorn.run(
        create_gateway_app(definition),
        host=definition.settings.http_host,
        port=definition.settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=20,
        proxy_headers=False,
    )
