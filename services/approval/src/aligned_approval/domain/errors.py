"""What the service layer raises when a rule says no: aligned_common.errors' kinds.

Each error says what happened (`title`, `detail`, extra members such as `status_now` or
`errors`); the entrypoints decide how a caller hears it (aligned_common.problems maps each kind
to its RFC 9457 status), so the rules are tested without HTTP and read without it.
"""

from __future__ import annotations

from aligned_common import errors
from aligned_common.errors import DomainError as DomainError  # re-exported: the service's words
from aligned_common.errors import Forbidden as Forbidden
from aligned_common.errors import Gone as Gone
from aligned_common.errors import Invalid as Invalid
from aligned_common.errors import NotFound as NotFound
from aligned_common.identity import Identity


class Locked(errors.Conflict):
    """The thing's state does not allow this any more (a decided round)."""


def require_role(identity: Identity, *roles: str) -> None:
    if not identity.can(*roles):
        raise Forbidden(
            title="Forbidden",
            detail=f"role {identity.role!r} may not do this; needs one of {', '.join(roles)}",
        )
