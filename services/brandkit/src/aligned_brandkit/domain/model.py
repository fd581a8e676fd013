"""A brand kit's versions and what tells two apart (no I/O).

A version is immutable: an update or a restore makes the next one. The version number is the
ETag, so an update names the version it was made from (If-Match) and a stale one is refused
instead of silently overwriting someone else's change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aligned_brandkit.domain.errors import StaleVersion, VersionRequired
from aligned_common.events.brandkit import BrandKit


@dataclass(frozen=True)
class KitVersion:
    brand_id: uuid.UUID
    version: int
    kit: BrandKit
    author_id: str
    created_at: datetime
    restored_from: int | None = None

    @property
    def etag(self) -> str:
        return etag_of(self.version)

    def next(
        self, kit: BrandKit, author_id: str, at: datetime, restored_from: int | None = None
    ) -> KitVersion:
        return KitVersion(self.brand_id, self.version + 1, kit, author_id, at, restored_from)


def etag_of(version: int) -> str:
    return f'"{version}"'


def parse_if_match(header: str | None) -> int | str | None:
    """The version an If-Match names ("3", W/"3" or 3), "*" for any, None when absent or unreadable
    as a version (a stale or foreign ETag then simply does not match)."""
    if header is None:
        return None
    value = header.strip()
    if value == "*":
        return "*"
    value = value.removeprefix("W/").strip('"')
    return int(value) if value.isdigit() and len(value) < 10 else -1


def check_precondition(current: KitVersion | None, if_match: int | str | None) -> None:
    """The first version needs no If-Match (there is nothing to overwrite); every later change
    must name the current version."""
    if current is None:
        if if_match is not None:
            raise StaleVersion("this brand has no kit yet: send the first one without If-Match", current=None)
        return
    if if_match is None:
        raise VersionRequired(
            f"the kit is at version {current.version}: send If-Match: {current.etag} with the change",
            current=current.version,
        )
    if if_match != "*" and if_match != current.version:
        raise StaleVersion(
            f"the kit is at version {current.version}, not the one this change was made from; "
            "read it again and reapply the change",
            current=current.version,
        )


def diff(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """Field-level changes from one version to another: objects are compared field by field
    (`platforms.instagram.hashtag_limit`), lists and values as a whole."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes = []
        for key in sorted(set(before) | set(after), key=str):
            where = f"{path}.{key}" if path else str(key)
            changes.extend(diff(before.get(key), after.get(key), where))
        return changes
    return [] if before == after else [{"field": path, "before": before, "after": after}]


def kit_diff(before: KitVersion, after: KitVersion) -> list[dict[str, Any]]:
    return diff(before.kit.model_dump(mode="json"), after.kit.model_dump(mode="json"))
