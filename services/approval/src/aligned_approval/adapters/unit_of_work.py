"""The unit of work on PostgreSQL: aligned_common's transaction with this service's repositories
bound to its connection (aligned_common.units)."""

from __future__ import annotations

import asyncpg

from aligned_approval.adapters.approvals import SqlMembers, SqlPolicies, SqlRounds
from aligned_approval.adapters.audit import SqlAudit
from aligned_approval.adapters.client_settings import SqlClientSettings
from aligned_approval.adapters.escalations import SqlEscalations
from aligned_approval.adapters.jobs import SqlJobs
from aligned_approval.adapters.known_connections import SqlKnownConnections
from aligned_approval.adapters.links import SqlLinks
from aligned_approval.adapters.notifications import SqlNotifications
from aligned_common.units import BoundUnitOfWork


class SqlUnitOfWork(BoundUnitOfWork):
    def bind(self, conn: asyncpg.Connection) -> None:
        self.rounds = SqlRounds(conn)
        self.members = SqlMembers(conn)
        self.policies = SqlPolicies(conn)
        self.escalations = SqlEscalations(conn)
        self.notifications = SqlNotifications(conn)
        self.clients = SqlClientSettings(conn)
        self.links = SqlLinks(conn)
        self.jobs = SqlJobs(conn)
        self.audit = SqlAudit(conn)
        self.connections = SqlKnownConnections(conn)
