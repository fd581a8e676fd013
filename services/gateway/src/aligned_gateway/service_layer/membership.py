"""Who is a member of which brand, with which role: checked on every request.

A short in-process cache keeps the database out of the hot path; the gateway drops an
entry as soon as it sees the membership change (its own admin handlers locally, and
gateway.member_* / brand_archived events from any replica through the live feed), so a
removed member loses access at once on this replica and within one event hop elsewhere
(the TTL bounds it even if an event were missed).
"""

from __future__ import annotations

import time
import uuid

from aligned_common.app import Database
from aligned_common.db import UnitOfWork
from aligned_gateway.adapters import members_repo


class MembershipCache:
    def __init__(self, database: Database, ttl_s: float) -> None:
        self._database = database
        self._ttl_s = ttl_s
        self._entries: dict[tuple[uuid.UUID, str], tuple[str | None, float]] = {}

    async def role_of(self, brand_id: uuid.UUID, user_id: str) -> str | None:
        key = (brand_id, user_id)
        hit = self._entries.get(key)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        async with UnitOfWork(self._database.pool, self._database.schema, brand_id=brand_id) as uow:
            role = await members_repo.active_role(uow.conn, brand_id, user_id)
        self._entries[key] = (role, time.monotonic() + self._ttl_s)
        return role

    def forget(self, brand_id: uuid.UUID, user_id: str | None = None) -> None:
        """Drop one member's entry, or the whole brand's (archived)."""
        if user_id is not None:
            self._entries.pop((brand_id, user_id), None)
            return
        for key in [k for k in self._entries if k[0] == brand_id]:
            self._entries.pop(key, None)
