"""The service layer's refusals (domain/errors.py) as RFC 9457 problems: one table, applied to
every route of the API by its router's route class."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from aligned_common.problems import Problem
from aligned_webhooks.domain import errors

PROBLEMS: dict[type[errors.WebhooksError], tuple[int, str]] = {
    errors.EndpointNotFound: (404, "Endpoint not found"),
    errors.DeliveryNotFound: (404, "Delivery not found"),
    errors.DeliveryStillPending: (409, "Delivery still pending"),
}


def problem_of(error: errors.WebhooksError) -> Problem:
    if isinstance(error, errors.RefusedUrl):
        # As a validation error of the field, like the request's other invalid fields.
        return Problem(
            422,
            "Invalid request",
            detail=f"invalid fields: url ({error.detail})",
            errors=[{"field": "url", "message": error.detail}],
        )
    status, title = next(answer for kind, answer in PROBLEMS.items() if isinstance(error, kind))
    return Problem(status, title, detail=error.detail)


class DomainErrorsAsProblems(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await handle(request)
            except errors.WebhooksError as error:
                raise problem_of(error) from None

        return handler
