"""The unit of work on PostgreSQL: aligned_common's transaction with this service's repositories
bound to its connection (aligned_common.units)."""

from __future__ import annotations

import asyncpg

from aligned_common.units import BoundUnitOfWork
from aligned_connections.adapters.attempts_repo import SqlAttempts
from aligned_connections.adapters.connections_repo import SqlConnections
from aligned_connections.adapters.oauth_states_repo import SqlOAuthStates


class SqlUnitOfWork(BoundUnitOfWork):
    def bind(self, conn: asyncpg.Connection) -> None:
        self.connections = SqlConnections(conn)
        self.attempts = SqlAttempts(conn)
        self.oauth_states = SqlOAuthStates(conn)
