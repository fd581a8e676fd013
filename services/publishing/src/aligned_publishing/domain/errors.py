"""What the service layer refuses with: aligned_common.errors' kinds, with publishing's titles.
The entrypoints answer each as its RFC 9457 problem (aligned_common.problems); the domain knows
nothing of HTTP."""

from __future__ import annotations

from aligned_common import errors
from aligned_common.errors import DomainError as DomainError  # re-exported: the service's words
from aligned_common.errors import NotFound as NotFound


class Conflict(errors.Conflict):
    title = "Conflict"


class IllegalTransition(Conflict):
    """A job (or target) asked to move to a status its current one does not lead to."""


class Invalid(errors.Invalid):
    title = "Invalid request"


class Gone(errors.Gone):
    title = "Gone"


class TooLarge(errors.TooLarge):
    title = "Upload too large"


class UnsupportedMedia(errors.Unsupported):
    title = "Unsupported media type"


class Forbidden(errors.Forbidden):
    title = "Forbidden"
