"""What the service layer raises when a command cannot be done (besides InvalidQuery, a field
the caller got wrong): aligned_common.errors' kinds. The entrypoints decide how a caller hears
it (aligned_common.problems: NotFound 404, Conflict 409), so the rules are tested without HTTP."""

from __future__ import annotations

from aligned_common.errors import Conflict as Conflict  # re-exported: the service's words
from aligned_common.errors import NotFound as NotFound
