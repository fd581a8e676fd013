"""The unit of work on PostgreSQL: aligned_common's transaction with this service's repositories
bound to its connection (aligned_common.units)."""

from __future__ import annotations

import asyncpg

from aligned_common.units import BoundUnitOfWork
from aligned_publishing.adapters.calendar_repo import SqlCalendarFeeds
from aligned_publishing.adapters.comments_repo import SqlComments
from aligned_publishing.adapters.dispatch_repo import SqlDispatch
from aligned_publishing.adapters.feeds_repo import SqlFeeds
from aligned_publishing.adapters.holds_repo import SqlHolds
from aligned_publishing.adapters.imports_repo import SqlImports
from aligned_publishing.adapters.jobs_repo import SqlJobs, SqlMedia, SqlTargets
from aligned_publishing.adapters.media_repo import SqlAssets
from aligned_publishing.adapters.projections import SqlConnections, SqlGuardrails, SqlPolicies
from aligned_publishing.adapters.views import SqlViews


class SqlUnitOfWork(BoundUnitOfWork):
    def bind(self, conn: asyncpg.Connection) -> None:
        self.jobs = SqlJobs(conn)
        self.media = SqlMedia(conn)
        self.policies = SqlPolicies(conn)
        self.connections = SqlConnections(conn)
        self.guardrails = SqlGuardrails(conn)
        self.targets = SqlTargets(conn)
        self.holds = SqlHolds(conn)
        self.dispatch = SqlDispatch(conn)
        self.views = SqlViews(conn)
        self.assets = SqlAssets(conn)
        self.imports = SqlImports(conn)
        self.calendar_feeds = SqlCalendarFeeds(conn)
        self.comments = SqlComments(conn)
        self.feeds = SqlFeeds(conn)
