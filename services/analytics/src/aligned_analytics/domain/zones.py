"""Time zones (no I/O): a name PostgreSQL and Python both know, or UTC."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def known_zone(name: str | None) -> str:
    """The IANA name if it is one, else UTC: an unknown name must not make every report fail."""
    try:
        return ZoneInfo(name or "UTC").key
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
