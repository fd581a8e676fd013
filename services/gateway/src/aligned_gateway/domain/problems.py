"""A Problem that also carries response headers (WWW-Authenticate, Retry-After, RateLimit)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from aligned_common.problems import Problem, problem_response


class HeaderProblem(Problem):
    def __init__(self, status: int, title: str, *, headers: dict[str, str], detail: str | None = None, **extra: Any):
        super().__init__(status, title, detail=detail, **extra)
        self.headers = headers


def response_of(problem: Problem, instance: str | None = None) -> JSONResponse:
    response = problem_response(problem.status, problem.title, problem.detail, problem.type, instance, **problem.extra)
    for name, value in getattr(problem, "headers", {}).items():
        response.headers[name] = value
    return response
