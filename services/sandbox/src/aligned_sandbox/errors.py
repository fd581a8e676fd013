"""One error type for the whole sandbox, answered as OAuth-style JSON like real platforms do."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


class SandboxError(Exception):
    def __init__(
        self, status_code: int, error: str, description: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.status_code = status_code
        self.error = error
        self.description = description
        self.headers = dict(headers or {})


def invalid_token(description: str) -> SandboxError:
    return SandboxError(
        401,
        "invalid_token",
        description,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'},
    )


def error_body(error: str, description: str) -> dict[str, str]:
    return {"error": error, "error_description": description}


async def handle_sandbox_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SandboxError)
    return JSONResponse(error_body(exc.error, exc.description), exc.status_code, headers=exc.headers)


async def handle_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
    )
    return JSONResponse(error_body("validation_failed", problems), 422)
