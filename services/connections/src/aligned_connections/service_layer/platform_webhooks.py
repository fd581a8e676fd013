"""webhooks.received: what a platform told us about an account we hold tokens for."""

from __future__ import annotations

import logging

from aligned_common.events.webhooks import Received
from aligned_connections.domain.connection import Status
from aligned_connections.service_layer.ports import UnitOfWork
from aligned_connections.service_layer.tokens import mark_dead

log = logging.getLogger(__name__)


async def handle_received(uow: UnitOfWork, data: Received) -> None:
    if data.kind != "account_deauthorized" or not data.account_id:
        return  # post status and metrics webhooks are for publishing and analytics
    # The platform withdrew our access to the account itself, so every brand's connection to it
    # is dead (runs as worker: the webhook names an account, not a brand).
    for connection in await uow.connections.find_across_brands(data.provider, data.account_id):
        if connection.status is Status.CONNECTED or connection.status is Status.EXPIRED:
            await mark_dead(
                uow,
                connection,
                Status.REVOKED,
                f"the platform deauthorized the account ({data.provider_event_id})",
            )
            log.info("connection revoked by the platform", extra={"ctx_connection_id": str(connection.id)})
