"""The unit of work on PostgreSQL: aligned_common's transaction with this service's repositories
bound to its connection (aligned_common.units)."""

from __future__ import annotations

import asyncpg

from aligned_approval.adapters.approvals import PgMembers, PgPolicies, PgRounds
from aligned_approval.adapters.audit import PgAudit
from aligned_approval.adapters.client_settings import PgClientSettings
from aligned_approval.adapters.escalations import PgEscalations
from aligned_approval.adapters.jobs import PgJobs
from aligned_approval.adapters.known_connections import PgKnownConnections
from aligned_approval.adapters.links import PgLinks
from aligned_approval.adapters.notifications import PgNotifications
from aligned_common.units import BoundUnitOfWork


class PgUnitOfWork(BoundUnitOfWork):
    def bind(self, conn: asyncpg.Connection) -> None:
        self.rounds = PgRounds(conn)
        self.members = PgMembers(conn)
        self.policies = PgPolicies(conn)
        self.escalations = PgEscalations(conn)
        self.notifications = PgNotifications(conn)
        self.clients = PgClientSettings(conn)
        self.links = PgLinks(conn)
        self.jobs = PgJobs(conn)
        self.audit = PgAudit(conn)
        self.connections = PgKnownConnections(conn)
