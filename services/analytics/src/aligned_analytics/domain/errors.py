"""What the service layer raises when a command cannot be done (besides InvalidQuery, a field
the caller got wrong). The entrypoints decide how a caller hears it (entrypoints/http.py's
`answer`: NotFound 404, Conflict 409), so the rules are tested without HTTP."""

from __future__ import annotations


class AnalyticsError(Exception):
    def __init__(self, title: str, *, detail: str) -> None:
        super().__init__(title)
        self.title = title
        self.detail = detail


class NotFound(AnalyticsError):
    """No such goal or plan in this brand."""


class Conflict(AnalyticsError):
    """The thing's state does not allow this now (an account not syncable, a plan accepted)."""
