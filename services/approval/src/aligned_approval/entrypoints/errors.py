"""How a caller hears a domain error: each kind is an RFC 9457 problem with its status."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from aligned_approval.domain.errors import ApprovalError, Forbidden, Gone, Invalid, Locked, NotFound
from aligned_common.problems import Problem

STATUS: dict[type[ApprovalError], int] = {NotFound: 404, Forbidden: 403, Locked: 409, Gone: 410, Invalid: 422}


def problem_of(error: ApprovalError) -> Problem:
    return Problem(STATUS[type(error)], error.title, detail=error.detail, **error.extra)


class ProblemRoute(APIRoute):
    """A route whose handler's domain errors reach the caller as problems (the app's Problem
    handler renders them), so the service layer never speaks HTTP."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handle(request)
            except ApprovalError as error:
                raise problem_of(error) from error

        return route
