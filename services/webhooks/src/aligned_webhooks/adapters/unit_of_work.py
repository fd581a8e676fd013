"""The unit of work on PostgreSQL: aligned_common's transaction with this service's repositories
bound to its connection (aligned_common.units)."""

from __future__ import annotations

import asyncpg

from aligned_common.units import BoundUnitOfWork
from aligned_webhooks.adapters.delivery_store import SqlDeliveries
from aligned_webhooks.adapters.endpoint_store import SqlEndpoints
from aligned_webhooks.adapters.inbound_store import SqlInbound


def wake_channel(schema: str) -> str:
    """The NOTIFY channel the delivery loop listens on."""
    return f"{schema}_deliveries"


class SqlUnitOfWork(BoundUnitOfWork):
    def bind(self, conn: asyncpg.Connection) -> None:
        self.endpoints = SqlEndpoints(conn)
        self.deliveries = SqlDeliveries(conn)
        self.inbound = SqlInbound(conn)

    async def wake_deliveries(self) -> None:
        # Delivered at commit: the delivery loop claims at once instead of at its next poll.
        await self.tx.conn.execute("SELECT pg_notify($1, '')", wake_channel(self.schema))
