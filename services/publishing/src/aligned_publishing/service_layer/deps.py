"""The service's one dependencies object, built once in bootstrap.build(): routes get it
through `dependency(Deps)`, consumers are built with it, loops are called with it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from aligned_common.app import Database
from aligned_common.clock import Clock
from aligned_common.db import Role
from aligned_common.ssrf import TargetPolicy
from aligned_common.units import Opens
from aligned_publishing.adapters.object_store import ObjectStore
from aligned_publishing.adapters.unit_of_work import SqlUnitOfWork
from aligned_publishing.config import Settings
from aligned_publishing.service_layer.ports import UnitOfWorkFactory


@dataclass(frozen=True)
class Deps:
    settings: Settings
    database: Database
    clock: Clock
    storage: ObjectStore
    # The job commands' transactions, scoped to a brand (tests/unit: in memory).
    uow: UnitOfWorkFactory

    @property
    def schema(self) -> str:
        return self.database.schema

    @property
    def pool(self) -> asyncpg.Pool:
        return self.database.pool

    def sql_uow(self, brand_id: uuid.UUID | None = None, *, role: Role = "app") -> SqlUnitOfWork:
        """A transaction with every repository, for what has no in-memory fake: the reads,
        and the loops across brands (role="worker": the dispatcher's claim, the purges)."""
        return Opens(SqlUnitOfWork, self.database)(brand_id, role=role)

    def feed_policy(self) -> TargetPolicy:
        """The SSRF guard's policy for feed URLs, read at each use (a URL is checked at subscribe
        time and again at every poll)."""
        return TargetPolicy(
            allow_loopback=self.settings.feed_allow_loopback_targets,
            allow_http=self.settings.feed_allow_http_targets,
        )
