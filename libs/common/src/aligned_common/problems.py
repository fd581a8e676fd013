"""RFC 9457 problem+json for every error a service answers, and the same problems written
into each service's OpenAPI document (`document_problems`), so that what a client is told it
may get back is what it gets back."""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from aligned_common import errors

PROBLEM_JSON = "application/problem+json"

# The body of every problem: what problem_response writes. Extra members (errors, limit,
# retry_after, ...) are allowed, as RFC 9457 allows extensions.
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {
            "type": "string",
            "format": "uri-reference",
            "description": "What kind of problem: `urn:aligned:problem:<kind>` (docs/problems.md)",
        },
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "One entry per field that was refused",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}
PROBLEM_REF = "#/components/schemas/Problem"

# A problem's `type` names what went wrong (RFC 9457 3.1.1), one kind per status: a URN, so no
# client tries to fetch it; docs/problems.md says what each means and what to do about it.
# The `title` says the case ("Job is locked"), `errors` the refused fields.
PROBLEM_TYPE_PREFIX = "urn:aligned:problem:"
PROBLEM_TYPES: dict[int, str] = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    410: "gone",
    413: "too-large",
    412: "precondition-failed",
    415: "unsupported-media-type",
    422: "invalid-request",
    428: "precondition-required",
    429: "rate-limited",
    500: "internal-error",
    502: "bad-gateway",
    503: "unavailable",
    504: "upstream-timeout",
}


def problem_type(status: int) -> str:
    """The `type` of a problem with this status (a status without a kind of its own: `http-<n>`)."""
    return PROBLEM_TYPE_PREFIX + PROBLEM_TYPES.get(status, f"http-{status}")


class Problem(Exception):
    """Raise from a route or handler: `raise Problem(409, "Job is locked", detail=...)`."""

    def __init__(
        self, status: int, title: str, *, detail: str | None = None, type_: str | None = None, **extra: Any
    ):
        super().__init__(title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_
        self.extra = extra


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    type_: str | None = None,
    instance: str | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_ or problem_type(status), "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    document_problems(app)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, exc.type, request.url.path, **exc.extra)

    @app.exception_handler(errors.DomainError)
    async def _domain(request: Request, exc: errors.DomainError) -> JSONResponse:
        # A service layer's refusal, wherever in a route it is raised: its kind's status.
        return await _problem(request, problem_of(exc))

    def _field(loc: tuple[object, ...]) -> str:
        # The body's own name goes; a field that is itself called "body" (a template's) stays.
        return ".".join(str(p) for p in (loc[1:] if loc[:1] == ("body",) else loc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        fields = ", ".join(e["field"] for e in errors)
        return problem_response(
            422, "Invalid request", f"invalid fields: {fields}", instance=request.url.path, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = problem_response(exc.status_code, str(exc.detail), instance=request.url.path)
        response.headers.update(exc.headers or {})  # a 405 keeps its Allow
        return response


# -- the problems in the OpenAPI document ------------------------------------------------------
# What every operation of a service may answer, by the operation's shape. Routes add the
# problems only they answer with `responses=problem_responses(410, ...)` in their decorator.
_MUTATIONS = frozenset({"post", "put", "patch", "delete"})
_DESCRIPTIONS = {
    400: "A parameter that does not decode (a cursor, a malformed body)",
    403: "The caller's role or link does not allow this",
    404: "No such resource in this brand",
    409: "The resource's state does not allow this now",
    410: "The link or resource is gone for good",
    413: "Request body too large",
    415: "The content is not of an accepted type",
    422: "Invalid request: `errors` names each refused field",
    429: "Rate limited: try again after Retry-After seconds",
    502: "A platform answered unexpectedly",
    503: "A dependency is unavailable: try again after Retry-After seconds",
}


def problem_response_doc(status: int, description: str | None = None) -> dict[str, Any]:
    """One OpenAPI response object whose body is a problem."""
    return {
        "description": description or _DESCRIPTIONS.get(status) or HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
    }


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """For a route decorator's `responses=`: the problems this route answers beyond the
    ones every operation of its shape lists (see document_problems)."""
    return {status: problem_response_doc(status) for status in statuses}


def _statuses_of(path: str, method: str, operation: dict[str, Any]) -> Iterable[int]:
    yield 400  # a parameter or body that does not decode (cursors, malformed JSON)
    yield 403  # services check their own permission, public routes their link's
    if "{" in path:
        yield 404  # the resource the path names does not exist (or is another brand's)
    if method in _MUTATIONS:
        yield 409  # the resource's state forbids the change (or a uniqueness rule)
    if operation.get("parameters") or "requestBody" in operation:
        yield 422  # a field fails validation


def add_problems(doc: dict[str, Any]) -> dict[str, Any]:
    """Write the problems into an OpenAPI document: the Problem schema, every operation's
    problem responses by its shape, and FastAPI's own 422 (documented as application/json
    with its HTTPValidationError) replaced by the problem+json the handlers answer."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if method not in ("get", "head", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = problem_response_doc(422)
            for status in _statuses_of(path, method, operation):
                responses.setdefault(str(status), problem_response_doc(status))
    return doc


def document_problems(app: FastAPI) -> None:
    """The app's /openapi.json lists the problems each operation answers (add_problems)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_problems(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# -- domain errors as problems ---------------------------------------------------------------
# Each kind of aligned_common.errors, and the status a caller hears it with.
STATUS: dict[type[errors.DomainError], int] = {
    errors.BadRequest: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Gone: 410,
    errors.TooLarge: 413,
    errors.Unsupported: 415,
    errors.PreconditionFailed: 412,
    errors.Invalid: 422,
    errors.PreconditionRequired: 428,
    errors.TooManyRequests: 429,
    errors.BadGateway: 502,
    errors.Unavailable: 503,
}


def status_of(error: errors.DomainError) -> int:
    """The status of the error's kind (its nearest base in STATUS; 500 for a bare DomainError)."""
    return next((STATUS[kind] for kind in type(error).__mro__ if kind in STATUS), 500)


def problem_of(error: errors.DomainError) -> Problem:
    return Problem(status_of(error), error.title, detail=error.detail, **error.extra)
