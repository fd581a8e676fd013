"""Problems the gateway answers: ones that carry response headers (WWW-Authenticate,
Retry-After, RateLimit, Allow), the body limit, and the one way they become a response
(problem+json with the request id, in the body as in the X-Request-Id header)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from aligned_common.problems import Problem, problem_response


class HeaderProblem(Problem):
    def __init__(
        self, status: int, title: str, *, headers: dict[str, str], detail: str | None = None, **extra: Any
    ):
        super().__init__(status, title, detail=detail, **extra)
        self.headers = headers


class BodyTooLarge(Problem):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            "Request body too large",
            detail=f"the request body is larger than this route's limit of {limit} bytes",
            limit=limit,
        )


def http_problem(exc: HTTPException) -> Problem:
    """Starlette's HTTPException (404 no route, 405 with its Allow header) as a Problem."""
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = "Error"
    detail = None if exc.detail == phrase else str(exc.detail)
    return HeaderProblem(exc.status_code, phrase, detail=detail, headers=dict(exc.headers or {}))


def response_of(problem: Problem, instance: str | None = None, request_id: str | None = None) -> JSONResponse:
    extra = dict(problem.extra)
    if request_id:
        extra.setdefault("request_id", request_id)
    response = problem_response(
        problem.status, problem.title, problem.detail, problem.type, instance, **extra
    )
    for name, value in getattr(problem, "headers", {}).items():
        response.headers[name] = value
    if request_id:
        response.headers["X-Request-Id"] = request_id
    return response
