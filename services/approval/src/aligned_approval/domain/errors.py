"""What the service layer raises when a rule says no.

Each error says what happened (`title`, `detail`, extra members such as `status_now` or
`errors`); the entrypoints decide how a caller hears it (entrypoints/errors.py maps each kind
to its RFC 9457 status), so the rules are tested without HTTP and read without it.
"""

from __future__ import annotations

from typing import Any

from aligned_common.identity import Identity


class ApprovalError(Exception):
    def __init__(self, title: str, *, detail: str | None = None, **extra: Any) -> None:
        super().__init__(title)
        self.title = title
        self.detail = detail
        self.extra = extra


class NotFound(ApprovalError):
    """No such thing in this brand (or a token that names nothing)."""


class Forbidden(ApprovalError):
    """The caller's role, or the round's policy, does not allow this."""


class Locked(ApprovalError):
    """The thing's state does not allow this any more (a decided round)."""


class Gone(ApprovalError):
    """A link revoked, used or expired: gone for good."""


class Invalid(ApprovalError):
    """A field the caller sent is refused; `errors` names each."""


def require_role(identity: Identity, *roles: str) -> None:
    if not identity.can(*roles):
        raise Forbidden(
            "Forbidden", detail=f"role {identity.role!r} may not do this; needs one of {', '.join(roles)}"
        )
