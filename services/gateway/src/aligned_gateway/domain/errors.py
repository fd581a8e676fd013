"""The gateway's rules say no with aligned_common.errors' kinds; entrypoints/errors.py turns each
into its RFC 9457 problem (the status is the entry point's business, the title and detail the
rule's).

Each carries the title the client reads (e.g. "Last owner", "Request in progress"), the
detail, and any extension members; a rate limit also the response headers its answer keeps."""

from __future__ import annotations

from typing import Any

from aligned_common import errors
from aligned_common.errors import BadRequest as BadRequest  # re-exported: the service's words
from aligned_common.errors import Conflict as Conflict
from aligned_common.errors import DomainError as DomainError
from aligned_common.errors import Forbidden as Forbidden
from aligned_common.errors import Invalid as Invalid
from aligned_common.errors import NotFound as NotFound
from aligned_common.errors import Unauthenticated as Unauthenticated


class TooManyRequests(errors.TooManyRequests):
    """A rate limit or a cap on open streams is reached; `headers` say when to retry."""

    def __init__(
        self,
        detail: str | None = None,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail, title=title, **extra)
        self.headers = headers or {}
