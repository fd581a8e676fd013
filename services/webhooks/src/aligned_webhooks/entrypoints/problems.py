"""The service layer's refusals (domain/errors.py) as RFC 9457 problems: one table, applied to
every route of the API by its router's route class."""

from __future__ import annotations

from aligned_common.problems import Problem, raising_as_problems
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


DomainErrorsAsProblems = raising_as_problems(errors.WebhooksError, problem_of)
