"""The unit of work on PostgreSQL: aligned_common's transaction with this service's repositories
bound to its connection (aligned_common.units)."""

from __future__ import annotations

import asyncpg

from aligned_analytics.adapters.accounts import PgAccounts
from aligned_analytics.adapters.advisor import PgAdvisor
from aligned_analytics.adapters.brands import PgBrands
from aligned_analytics.adapters.goals import PgGoals
from aligned_analytics.adapters.metric_store import PgMetrics
from aligned_analytics.adapters.partitions import PgPartitions
from aligned_analytics.adapters.plans import PgPlans
from aligned_analytics.adapters.posts import PgPosts
from aligned_analytics.adapters.reports import PgReports
from aligned_analytics.adapters.sync_logs import PgSyncLogs
from aligned_common.units import BoundUnitOfWork


class PgUnitOfWork(BoundUnitOfWork):
    def bind(self, conn: asyncpg.Connection) -> None:
        self.accounts = PgAccounts(conn)
        self.advisor = PgAdvisor(conn)
        self.brands = PgBrands(conn)
        self.goals = PgGoals(conn)
        self.metrics = PgMetrics(conn)
        self.partitions = PgPartitions(conn)
        self.plans = PgPlans(conn)
        self.posts = PgPosts(conn)
        self.reports = PgReports(conn)
        self.syncs = PgSyncLogs(conn)
