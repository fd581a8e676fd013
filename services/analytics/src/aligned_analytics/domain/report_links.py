"""Client report links: a read-only report of a date range, shared by a secret URL.

The URL is `/report/<token>`, the token 32 random bytes (url-safe base64); analytics keeps only
its sha256, so the table holds no usable URL (as calendar feeds, ADR 0023). A link ends when it
is revoked or when it expires; an unknown token is a 404, a revoked or expired one a 410
(ADR 0031). No I/O here.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from aligned_common import errors

LANGUAGES = ("en", "de")  # the catalogues in locales/
DEFAULT_TTL_DAYS = 30
MAX_TTL_DAYS = 365
PATH_PREFIX = "/report/"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ReportLinkNotFound(errors.NotFound):
    title = "Report link not found"


class ReportLinkRevoked(errors.Gone):
    title = "Report link revoked"


class ReportLinkExpired(errors.Gone):
    title = "Report link expired"


def require_usable(link: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
    """The link, if it may still be opened; else why not (the error carries the link's language,
    so the page that says so is in the client's language)."""
    if link is None:
        raise ReportLinkNotFound("no such report link (never made)")
    if link["revoked_at"] is not None:
        raise ReportLinkRevoked("this report link was revoked", language=link["language"])
    if link["expires_at"] <= now:
        raise ReportLinkExpired("this report link has expired", language=link["language"])
    return link
