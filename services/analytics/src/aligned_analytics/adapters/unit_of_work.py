"""The unit of work on PostgreSQL: aligned_common's transaction with this service's repositories
bound to its connection (aligned_common.units)."""

from __future__ import annotations

import asyncpg

from aligned_analytics.adapters.accounts import SqlAccounts
from aligned_analytics.adapters.advisor import SqlAdvisor
from aligned_analytics.adapters.brands import SqlBrands
from aligned_analytics.adapters.goals import SqlGoals
from aligned_analytics.adapters.metric_store import SqlMetrics
from aligned_analytics.adapters.partitions import SqlPartitions
from aligned_analytics.adapters.plans import SqlPlans
from aligned_analytics.adapters.posts import SqlPosts
from aligned_analytics.adapters.report_links import SqlReportLinks
from aligned_analytics.adapters.reports import SqlReports
from aligned_analytics.adapters.sync_logs import SqlSyncLogs
from aligned_common.units import BoundUnitOfWork


class SqlUnitOfWork(BoundUnitOfWork):
    def bind(self, conn: asyncpg.Connection) -> None:
        self.accounts = SqlAccounts(conn)
        self.advisor = SqlAdvisor(conn)
        self.brands = SqlBrands(conn)
        self.goals = SqlGoals(conn)
        self.metrics = SqlMetrics(conn)
        self.partitions = SqlPartitions(conn)
        self.plans = SqlPlans(conn)
        self.posts = SqlPosts(conn)
        self.reports = SqlReports(conn)
        self.report_links = SqlReportLinks(conn)
        self.syncs = SqlSyncLogs(conn)
