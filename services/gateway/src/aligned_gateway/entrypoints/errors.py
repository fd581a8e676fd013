"""The gateway's answers to errors: its rules' refusals (domain/errors.py) and errors raised
inside a route become problem+json with the request id, and the headers the error carries
(a 401 its WWW-Authenticate, a 429 its Retry-After, a 405 its Allow)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from aligned_common.problems import Problem, status_of
from aligned_gateway.domain import errors as domain
from aligned_gateway.entrypoints.problems import HeaderProblem, http_problem, response_of

# RFC 9110: a 401 names the scheme the client must use.
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="aligned"'}


def problem_of(error: domain.DomainError) -> Problem:
    """The one mapping's status (aligned_common.problems), with the headers a gateway answer keeps."""
    status = status_of(error)
    headers = {**(CHALLENGE if status == 401 else {}), **getattr(error, "headers", {})}
    return HeaderProblem(status, error.title, detail=error.detail, headers=headers, **error.extra)


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def _gateway_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, domain.DomainError)
    return response_of(problem_of(exc), request.url.path, _request_id(request))


async def _problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return response_of(exc, request.url.path, _request_id(request))


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return response_of(http_problem(exc), request.url.path, _request_id(request))


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"]}
        for e in exc.errors()
    ]
    fields = ", ".join(e["field"] for e in errors)
    problem = Problem(422, "Invalid request", detail=f"invalid fields: {fields}", errors=errors)
    return response_of(problem, request.url.path, _request_id(request))


def install(app: FastAPI) -> None:
    app.add_exception_handler(domain.DomainError, _gateway_error)
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RequestValidationError, _validation)
