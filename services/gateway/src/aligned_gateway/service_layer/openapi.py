"""One OpenAPI 3.1 document for the whole public API: the frontend's contract.

Generated from each service's own document (its routes and pydantic models) by `make schemas`
(aligned_testing.contract), checked in as this package's openapi.json (schemas/openapi.json
links to it) and served as it is: the gateway no longer fetches the services' documents, so a
service that is down loses none of its paths, and what the frontend's generated client was
built from is what the gateway serves. tests/contract/test_openapi_document.py fails on drift.

`merge` takes from each service only the paths the route table sends to it, so the document
cannot advertise a path the gateway would not route. A component schema whose name another
service already uses differently is renamed `<Service><Name>` and its references rewritten.
Every operation also lists the problems the gateway itself answers for it (bad path, body too
large, no or bad token, forbidden, rate limited, unavailable upstream), with the one
problem+json schema of libs/common that every service's document uses too; is tagged by the
resource its path names; declares `Idempotency-Key` where the gateway honours it (every
authenticated POST); and takes the one `cursor`/`limit` pair described under components.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

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

IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Send the same key again to get the first answer again (header"
    " `Idempotent-Replayed: true`) instead of a second effect; the same key with another body is"
    " a 422. Keys are kept per brand for the gateway's idempotency TTL.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
# Cursor pagination, described once.
PAGE_PARAMETERS = {"cursor": "Cursor"}
PAGE_PARAMETER_DOCS: dict[str, Any] = {
    "Cursor": {
        "name": "cursor",
        "in": "query",
        "required": False,
        "description": "The `next_cursor` of the previous page (null on the last page); absent for the"
        " first page. Opaque: do not build or edit one. Each list's `limit` has its own maximum.",
        "schema": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
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
            paths[path] = _rewrite_refs(_public_item(item, route.public, path), renames)
    schemas["Problem"] = PROBLEM_SCHEMA
    for item in paths.values():
        for method, operation in item.items():
            if isinstance(operation, dict) and method in ("get", "head", "post", "put", "patch", "delete"):
                item[method] = _gateway_responses(operation, operation.get("security") == [])
    for path in gateway_doc.get("paths", {}):  # the gateway's own routes, as the services' are
        for method, operation in paths[path].items():
            operation.setdefault("tags", [resource_tag(path)])
            if "parameters" in operation:
                operation["parameters"] = [_shared_parameter(p) for p in operation["parameters"]]
            if method == "post" and operation.get("security") != []:
                operation.setdefault("parameters", []).append(IDEMPOTENCY_HEADER)
    doc["components"]["parameters"] = PAGE_PARAMETER_DOCS
    doc["components"]["securitySchemes"] = BEARER
    doc["security"] = [{"bearerAuth": []}]
    return doc


def resource_tag(path: str) -> str:
    """The resource a path names, as the operation's tag: `/v1/jobs/{id}/submit` -> `jobs`,
    `/v1/analytics/goals` -> `analytics`, `/review/{token}` -> `review`."""
    parts = [p for p in path.split("/") if p and not p.startswith("{")]
    return parts[1] if parts[:1] == ["v1"] and len(parts) > 1 else (parts[0] if parts else "api")


def _shared_parameter(param: dict[str, Any]) -> dict[str, Any]:
    # Every list pages the same way: one description of it, referenced.
    if param.get("in") == "query" and param.get("name") in PAGE_PARAMETERS:
        return {"$ref": f"#/components/parameters/{PAGE_PARAMETERS[param['name']]}"}
    return param


def _public_item(item: dict[str, Any], public: bool, path: str) -> dict[str, Any]:
    out = {}
    for method, operation in item.items():
        if not isinstance(operation, dict):
            out[method] = operation
            continue
        operation = {**operation, "tags": operation.get("tags") or [resource_tag(path)]}
        params = [
            _shared_parameter(p) for p in operation.get("parameters", []) if p.get("name") != "X-Brand-Id"
        ]
        if public:
            operation["security"] = []
        else:
            params.append(BRAND_HEADER)
            if method == "post":
                params.append(IDEMPOTENCY_HEADER)
        if params:
            operation["parameters"] = params
        out[method] = operation
    return out


def served_document() -> dict[str, Any]:
    """The checked-in document (package data, so it ships in the gateway's image)."""
    document: dict[str, Any] = json.loads(
        resources.files("aligned_gateway").joinpath("openapi.json").read_text()
    )
    return document
