"""One OpenAPI 3.1 document for the whole public API.

Built by merging each service's own /openapi.json (fetched on demand, kept for a minute)
into the gateway's: only the paths the route table sends to that service are taken, so
the document cannot advertise a path the gateway would not route. A component schema
whose name another service already uses differently is renamed `<Service><Name>` and its
references rewritten. A service that does not answer contributes nothing this time (its
paths appear once it is back) rather than failing the document. Every operation also lists
the problems the gateway itself answers for it (bad path, body too large, no or bad token,
forbidden, rate limited, unavailable upstream), with the one problem+json schema of
libs/common that every service's document uses too.
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

import httpx

from aligned_common.problems import PROBLEM_SCHEMA, problem_response_doc
from aligned_gateway.domain import routes

BEARER = {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
BRAND_HEADER = {
    "name": "X-Brand-Id",
    "in": "header",
    "required": False,
    "description": "The brand to act on when the token names several brands",
    "schema": {"type": "string", "format": "uuid"},
}

# The problems the gateway itself answers, on top of what each service's document lists
# (aligned_common.problems.add_problems): one Problem schema for both.
_EVERY = {
    400: "Bad path or bad request",
    500: "Internal error",
    502: "The service failed mid-request",
    503: "The service is unreachable",
    504: "The service timed out",
}
_WITH_BODY = {413: "Request body too large"}
_LOGGED_IN = {401: "No or invalid token", 403: "Not allowed for this role or brand", 429: "Rate limited"}


def _gateway_responses(operation: dict[str, Any], public: bool) -> dict[str, Any]:
    codes = {**_EVERY, **(_WITH_BODY if "requestBody" in operation else {}), **({} if public else _LOGGED_IN)}
    responses = dict(operation.get("responses", {}))
    for code, description in codes.items():
        responses.setdefault(str(code), problem_response_doc(code, description))
    return {**operation, "responses": responses}


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                name = value.rsplit("/", 1)[1]
                out[key] = f"#/components/schemas/{renames.get(name, name)}"
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def merge(gateway_doc: dict[str, Any], service_docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    doc = copy.deepcopy(gateway_doc)
    paths = doc.setdefault("paths", {})
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for service, service_doc in sorted(service_docs.items()):
        theirs = service_doc.get("components", {}).get("schemas", {})
        renames = {
            name: f"{service.capitalize()}{name}"
            for name, schema in theirs.items()
            if name in schemas and schemas[name] != schema
        }
        for name, schema in theirs.items():
            schemas[renames.get(name, name)] = _rewrite_refs(schema, renames)
        for path, item in service_doc.get("paths", {}).items():
            route = routes.match(path)
            if route is None or route.service != service or path in paths:
                continue
            paths[path] = _rewrite_refs(_public_item(item, route.public, service), renames)
    schemas["Problem"] = PROBLEM_SCHEMA
    for item in paths.values():
        for method, operation in item.items():
            if isinstance(operation, dict) and method in ("get", "head", "post", "put", "patch", "delete"):
                item[method] = _gateway_responses(operation, operation.get("security") == [])
    doc.setdefault("components", {})["securitySchemes"] = BEARER
    doc["security"] = [{"bearerAuth": []}]
    return doc


def _public_item(item: dict[str, Any], public: bool, service: str) -> dict[str, Any]:
    out = {}
    for method, operation in item.items():
        if not isinstance(operation, dict):
            out[method] = operation
            continue
        operation = {**operation, "tags": operation.get("tags") or [service]}
        if public:
            operation["security"] = []
        else:
            params = [p for p in operation.get("parameters", []) if p.get("name") != "X-Brand-Id"]
            operation["parameters"] = [*params, BRAND_HEADER]
        out[method] = operation
    return out


class OpenApiDocument:
    def __init__(self, client: httpx.AsyncClient, urls: dict[str, str], refresh_s: float) -> None:
        self._client = client
        self._urls = urls
        self._refresh_s = refresh_s
        self._docs: dict[str, tuple[float, dict[str, Any]]] = {}

    async def build(self, gateway_doc: dict[str, Any]) -> dict[str, Any]:
        await asyncio.gather(*(self._refresh(s) for s in self._urls))
        return merge(gateway_doc, {s: d for s, (_, d) in self._docs.items()})

    async def _refresh(self, service: str) -> None:
        cached = self._docs.get(service)
        if cached is not None and cached[0] > time.monotonic():
            return
        try:
            response = await self._client.get(f"{self._urls[service]}/openapi.json", timeout=2.0)
            response.raise_for_status()
            self._docs[service] = (time.monotonic() + self._refresh_s, response.json())
        except (httpx.HTTPError, ValueError):
            # Down: keep the last copy we had (if any), and ask again on the next build.
            if cached is None:
                self._docs.pop(service, None)
