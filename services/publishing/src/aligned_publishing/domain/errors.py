"""What the service layer refuses with, in the domain's words. The entrypoints map each kind
to its RFC 9457 problem (entrypoints/http.py: STATUS); the domain knows nothing of HTTP."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """`title` and `detail` are what a client reads; `extra` are the problem's extension members."""

    title = "Refused"

    def __init__(self, detail: str, *, title: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if title is not None:
            self.title = title
        self.extra = extra


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    """The request is fine but the state it meets does not allow it."""

    title = "Conflict"


class IllegalTransition(Conflict):
    """A job (or target) asked to move to a status its current one does not lead to."""


class Invalid(DomainError):
    """Fields refused; `errors` names each (field, message, ...)."""

    title = "Invalid request"


class Gone(DomainError):
    title = "Gone"


class TooLarge(DomainError):
    title = "Upload too large"


class UnsupportedMedia(DomainError):
    title = "Unsupported media type"
