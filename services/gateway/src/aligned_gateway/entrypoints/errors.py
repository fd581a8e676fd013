"""The gateway's answers to errors raised inside a route: problem+json with the request id,
and the headers the error carries (a 405 keeps its Allow)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from aligned_common.problems import Problem
from aligned_gateway.domain.problems import http_problem, response_of


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def _problem(request: Request, exc: Problem) -> JSONResponse:
    return response_of(exc, request.url.path, _request_id(request))


async def _http(request: Request, exc: HTTPException) -> JSONResponse:
    return response_of(http_problem(exc), request.url.path, _request_id(request))


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"]}
        for e in exc.errors()
    ]
    fields = ", ".join(e["field"] for e in errors)
    problem = Problem(422, "Invalid request", detail=f"invalid fields: {fields}", errors=errors)
    return response_of(problem, request.url.path, _request_id(request))


def install(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RequestValidationError, _validation)
