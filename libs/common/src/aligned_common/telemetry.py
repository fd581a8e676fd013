"""Tracing and logging: one trace runs HTTP request -> outbox -> Kafka -> consumer -> platform.

The W3C `traceparent` travels in HTTP headers, in the outbox row and in Kafka headers.
Configured by OpenTelemetry's standard variables: `OTEL_TRACES_EXPORTER` (otlp | console |
none; none by default, so tests and laptops pay nothing), `OTEL_EXPORTER_OTLP_ENDPOINT`,
`OTEL_SERVICE_NAME` (default `aligned-<service>`). Server spans come from
opentelemetry-instrumentation-fastapi (named by route template: `GET /v1/jobs/{job_id}`);
while traces are exported, asyncpg queries and httpx calls (the platforms) get spans too
(their instrumentations), which cost a few microseconds per statement and so stay off when
nothing would read them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

_configured = False


def setup_tracing(service_name: str, exporter: SpanExporter | None = None) -> TracerProvider:
    """Install a TracerProvider once per process; `exporter` overrides the env choice (tests)."""
    global _configured
    provider = trace.get_tracer_provider()
    if _configured and isinstance(provider, TracerProvider):
        if exporter is not None:
            provider.add_span_processor(BatchSpanProcessor(exporter))
            _instrument_clients()
        return provider
    name = os.environ.get("OTEL_SERVICE_NAME") or service_name
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    chosen = exporter or _exporter_from_env()
    if chosen is not None:
        provider.add_span_processor(BatchSpanProcessor(chosen))
        _instrument_clients()
    trace.set_tracer_provider(provider)
    _configured = True
    return provider


def _instrument_clients() -> None:
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    for instrumentor in (AsyncPGInstrumentor(), HTTPXClientInstrumentor()):
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument()


def _exporter_from_env() -> SpanExporter | None:
    kind = os.environ.get("OTEL_TRACES_EXPORTER", "none").split(",")[0].strip().lower()
    if kind == "console":
        return ConsoleSpanExporter()
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()  # endpoint from OTEL_EXPORTER_OTLP_ENDPOINT
    return None


def tracer(name: str = "aligned") -> trace.Tracer:
    return trace.get_tracer(name)


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def context_from_traceparent(traceparent: str | None) -> context.Context:
    return propagate.extract({"traceparent": traceparent} if traceparent else {})


def context_from_kafka_headers(
    headers: Iterable[tuple[str, bytes]] | Mapping[str, str | bytes],
) -> context.Context:
    items = headers.items() if isinstance(headers, Mapping) else headers
    carrier = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in items}
    return propagate.extract(carrier)


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, carrying the active trace id so logs join traces."""

    def format(self, record: logging.LogRecord) -> str:
        span_context = trace.get_current_span().get_span_context()
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
        for key, value in record.__dict__.items():
            if key.startswith("ctx_"):
                entry[key[4:]] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


# Paths whose segment after the prefix is a bearer credential (signed review and unsubscribe links).
_LINK_TOKEN = re.compile(r"^(/(?:review|unsubscribe)/)[^/?]+", re.IGNORECASE)
REDACTED = "[redacted]"


def redact_target(target: str) -> str:
    """A request target fit for a log line: link tokens in the path and every query value
    (?access_token=, OAuth codes and states, ...) replaced, the parameter names kept."""
    path, sep, query = target.partition("?")
    path = _LINK_TOKEN.sub(rf"\g<1>{REDACTED}", path)
    if not sep:
        return path
    names = [part.split("=", 1)[0] for part in query.split("&") if part]
    return f"{path}?" + "&".join(f"{name}={REDACTED}" for name in names)


def redact_server_span(span: trace.Span, scope: dict[str, Any]) -> None:
    """The server span's URL attributes as redact_target writes them: a link token is a bearer
    credential and must not reach a trace store (the span's name is the route template)."""
    attributes = getattr(span, "attributes", None) or {}
    path = redact_target(scope.get("path", ""))
    for key in ("http.target", "url.path", "http.url", "url.full"):
        if key in attributes:
            span.set_attribute(key, path)
    if "url.query" in attributes:
        span.set_attribute("url.query", REDACTED)


class AccessLogRedaction(logging.Filter):
    """uvicorn's access log line carries the path with its query string (its third argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_target(args[2]), *args[3:])
        return True


def redact_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AccessLogRedaction) for f in access.filters):
        access.addFilter(AccessLogRedaction())


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    redact_access_log()
    # aiokafka logs every reconnect attempt at ERROR during a broker outage; warnings are enough.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
