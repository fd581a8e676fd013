"""The service layer's refusals (domain/errors.py) as RFC 9457 problems: one table, applied to
every route by the router's route class."""

from __future__ import annotations

from typing import Any

from aligned_common.problems import Problem, raising_as_problems
from aligned_connections.domain import errors

# error -> (status, title); the detail is the error's own.
PROBLEMS: dict[type[errors.ConnectionsError], tuple[int, str]] = {
    errors.ConnectionNotFound: (404, "Connection not found"),
    errors.UnknownPlatform: (404, "Unknown platform"),
    errors.ConnectionNotActive: (409, "Connection is not active"),
    errors.NothingToRefresh: (409, "Nothing to refresh"),
    errors.InvalidOAuthState: (400, "Invalid OAuth state"),
    errors.AuthorizationRefused: (400, "The platform refused the authorization"),
    errors.PlatformUnavailable: (503, "The platform is unavailable"),
    errors.PlatformAnsweredUnexpectedly: (502, "The platform answered unexpectedly"),
}


def problem_of(error: errors.ConnectionsError) -> Problem:
    if isinstance(error, errors.WrongConnectFlow):
        title = (
            "This platform connects without a redirect"
            if error.redirect
            else "This platform does not connect this way"
        )
        return Problem(409, title, detail=error.detail)
    status, title = next(answer for kind, answer in PROBLEMS.items() if isinstance(error, kind))
    extra: dict[str, Any] = {}
    if isinstance(error, errors.PlatformUnavailable):
        extra["retry_after"] = error.retry_after_s
    if isinstance(error, errors.AuthorizationRefused):
        extra["platform_message"] = error.platform_message
    return Problem(status, title, detail=error.detail, **extra)


DomainErrorsAsProblems = raising_as_problems(errors.ConnectionsError, problem_of)
