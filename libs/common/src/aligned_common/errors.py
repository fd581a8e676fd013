"""What a service layer raises when a rule says no, in every service's same words (issue 21).

Each error carries what the caller reads: `title`, `detail`, and `extra`, the problem's extension
members (`errors`, `retry_after`, `status_now`, ...). The kind says what happened; the status is
the entrypoints' business (aligned_common.problems: STATUS and the app's handlers), so the rules
are tested without HTTP. A service subclasses a kind for its own refusals, giving it its title:
`class ConnectionNotFound(NotFound): title = "Connection not found"`.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    title = "Refused"

    def __init__(self, detail: str | None = None, *, title: str | None = None, **extra: Any) -> None:
        super().__init__(detail or title or self.title)
        self.detail = detail
        if title is not None:
            self.title = title
        self.extra = extra


class BadRequest(DomainError):
    """The request cannot be read as sent (a header, a cursor, a state token)."""


class Unauthenticated(DomainError):
    """No credentials, or ones that do not verify."""


class Forbidden(DomainError):
    """The caller's role, tenant or link does not allow this."""


class NotFound(DomainError):
    """No such thing in the caller's brand (or one the caller may not know about)."""


class Conflict(DomainError):
    """The request is fine but the state it meets does not allow it now."""


class Gone(DomainError):
    """Gone for good: a link revoked, used or expired; a thing deleted."""


class TooLarge(DomainError):
    """More than the limit allows."""


class Unsupported(DomainError):
    """Content of a type that is not accepted."""


class PreconditionFailed(DomainError):
    """An If-Match that names a version which is no longer the current one."""


class PreconditionRequired(DomainError):
    """A change to a versioned resource without If-Match (a lost update is refused, not risked)."""


class Invalid(DomainError):
    """Fields refused; `errors` names each (field, message)."""


class TooManyRequests(DomainError):
    """A rate limit or cap is reached; `retry_after` says when to try again."""


class BadGateway(DomainError):
    """A platform answered unexpectedly."""


class Unavailable(DomainError):
    """A dependency is unavailable for now; `retry_after` says when to try again."""
