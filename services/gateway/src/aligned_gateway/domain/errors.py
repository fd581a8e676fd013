"""The gateway's rules say no with these; entrypoints/errors.py turns each into its RFC 9457
problem (the status is the entry point's business, the title and detail the rule's).

Each carries the title the client reads (e.g. "Last owner", "Request in progress"), the
detail, and any extension members or response headers the answer must keep."""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    def __init__(
        self, title: str, detail: str | None = None, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail or title)
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class BadRequest(GatewayError):
    """The request cannot be read as sent (a bad X-Brand-Id, Idempotency-Key)."""


class Unauthenticated(GatewayError):
    """No token, or one that does not verify."""


class Forbidden(GatewayError):
    """The caller's role or tenant does not allow this."""


class NotFound(GatewayError):
    """No such thing in the caller's brand (or one the caller may not know about)."""


class Conflict(GatewayError):
    """The state does not allow this now (last owner, archived, a key still in use)."""


class Invalid(GatewayError):
    """A field is refused; `errors` names each one."""


class TooManyRequests(GatewayError):
    """A rate limit or a cap on open streams is reached; `headers` say when to retry."""
