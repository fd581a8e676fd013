"""The public API's contract, generated: `python -m aligned_testing.contract write|check`
(`make schemas` / `make schemas-check`).

Builds every service's app offline (no database, broker or network: an app's document needs
only its routes and models), merges the documents the way the gateway routes them
(aligned_gateway.service_layer.openapi.merge), adds the outbound webhooks a brand can subscribe
to, and writes the gateway's packaged openapi.json, which the gateway serves and the frontend's
client is generated from (clients/typescript). Dev-only: it imports every service.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aligned_common import localrun
from aligned_common.app import create_app

ROOT = Path(__file__).resolve().parents[4]
DOCUMENT = ROOT / "services/gateway/src/aligned_gateway/openapi.json"
SERVICES = localrun.UPSTREAMS  # every service the gateway routes to
# Standard Webhooks: what every delivery carries besides its body (aligned_webhooks' signer).
DELIVERY_HEADERS = {
    "webhook-id": "The event's id: the same on every retry and replay, so a receiver can drop a repeat",
    "webhook-timestamp": "Unix seconds when this attempt was signed",
    "webhook-signature": "`v1,<base64 HMAC-SHA256>` of `id.timestamp.body` with the endpoint's secret",
}


@contextmanager
def _offline_settings():
    # Settings a service refuses to start without (keys, URLs): throwaway values, never used.
    env = localrun.wiring(
        localrun.LOCAL_PORTS, localrun._new_secrets(), "postgresql://x:x@127.0.0.1:1/x", "127.0.0.1:1"
    )
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _service_document(service: str) -> dict[str, Any]:
    bootstrap = importlib.import_module(f"aligned_{service}.bootstrap")
    return create_app(bootstrap.build()).openapi()


def _gateway_document() -> dict[str, Any]:
    from aligned_gateway.bootstrap import build, create_gateway_app

    app = create_gateway_app(build())
    app.openapi_schema = None
    return app.openapi()


def webhooks_section() -> tuple[dict[str, Any], dict[str, Any]]:
    """OpenAPI 3.1 `webhooks`: one entry per event type a brand may subscribe an endpoint to,
    with the delivery body (aligned_webhooks.domain.deliverable.delivery_body) and its schemas."""
    from aligned_webhooks.domain.deliverable import DELIVERABLE_MODELS

    webhooks: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for model in sorted(DELIVERABLE_MODELS, key=lambda m: m.event_type()):
        event_type = model.event_type()
        data = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(data.pop("$defs", {}))
        name = f"{model.__name__}Event"
        schemas[f"{model.__name__}Data"] = data
        schemas[name] = {
            "type": "object",
            "required": ["id", "type", "timestamp", "brand_id", "subject", "data"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "type": {"const": event_type},
                "timestamp": {"type": "string", "format": "date-time"},
                "brand_id": {"type": "string", "format": "uuid"},
                "subject": {"type": "string"},
                "data": {"$ref": f"#/components/schemas/{model.__name__}Data"},
            },
        }
        webhooks[event_type] = {
            "post": {
                "operationId": f"on{model.__name__}",
                "summary": (model.__doc__ or event_type).strip().splitlines()[0],
                "tags": ["webhook deliveries"],
                "parameters": [
                    {
                        "name": h,
                        "in": "header",
                        "required": True,
                        "description": d,
                        "schema": {"type": "string"},
                    }
                    for h, d in DELIVERY_HEADERS.items()
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                },
                "responses": {"2XX": {"description": "Received; any other answer is retried"}},
            }
        }
    return webhooks, schemas


def describe_live_events(document: dict[str, Any]) -> None:
    """The live stream's events are part of the contract: each SSE `data` is an event envelope
    (the one Kafka carries; its `data` per type in schemas/events/<type>.json)."""
    from aligned_common.envelope import EventEnvelope

    schema = EventEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    document["components"]["schemas"].update(schema.pop("$defs", {}))
    document["components"]["schemas"]["EventEnvelope"] = schema
    ok = document["paths"]["/v1/events/stream"]["get"]["responses"]["200"]
    ok["content"]["text/event-stream"] = {
        "schema": {"$ref": "#/components/schemas/EventEnvelope"},
        "x-sse": "each message: `id` (resume with Last-Event-ID), `event` = the envelope's type,"
        " `data` = the envelope as JSON; a final `end` event carries {reason}",
    }


def generate() -> dict[str, Any]:
    from aligned_gateway.service_layer.openapi import merge

    with _offline_settings():
        services = {service: _service_document(service) for service in SERVICES}
        document = merge(_gateway_document(), services)
    describe_live_events(document)
    webhooks, schemas = webhooks_section()
    document["webhooks"] = webhooks
    for name, schema in schemas.items():
        document["components"]["schemas"].setdefault(name, schema)
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render(generate())
    if argv == ["write"]:
        DOCUMENT.write_text(text)
        print(f"wrote {DOCUMENT.relative_to(ROOT)}")
        return 0
    if argv == ["check"]:
        if DOCUMENT.exists() and DOCUMENT.read_text() == text:
            return 0
        print("the API document is out of date: run `make schemas` and commit it", file=sys.stderr)
        return 1
    print("usage: python -m aligned_testing.contract write|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
