"""Refresh tokens ahead of expiry, safely with several replicas.

Each tick claims due connections with FOR UPDATE SKIP LOCKED and stamps them with a lease
(next_refresh_at), so two replicas never pick the same one; each is then refreshed under its
own row lock (tokens.refresh_connection). Transient failures back off; only an auth failure
changes the connection's status.
"""

from __future__ import annotations

import asyncio
import logging

from aligned_connections.service_layer.deps import Deps
from aligned_connections.service_layer.tokens import RefreshResult, refresh_connection

log = logging.getLogger(__name__)


async def refresh_due(deps: Deps) -> list[RefreshResult]:
    """One pass: claim and refresh what expires within the window. Returns what happened."""
    settings = deps.settings
    lease_s = max(60.0, settings.platform_read_timeout_s * 3)
    # role="worker": the due connections belong to every brand; each refresh below runs in its
    # own brand-scoped unit of work again.
    async with deps.uow(role="worker") as uow:
        due = await uow.connections.claim_due_refreshes(
            settings.refresh_window_s, lease_s, settings.refresh_batch_size
        )
    results: list[RefreshResult] = []
    for connection_id, brand_id in due:
        try:
            results.append(await refresh_connection(deps, brand_id, connection_id))
        except Exception:
            # One broken row must not stop the others; its lease lapses and it is tried again.
            log.exception("refresh failed unexpectedly", extra={"ctx_connection_id": str(connection_id)})
    return results


async def run_forever(deps: Deps) -> None:
    while True:
        try:
            results = await refresh_due(deps)
        except Exception:
            log.exception("refresh pass failed")  # the database may be away; try again next tick
            results = []
        # A full batch means more may be due: go again at once.
        if len(results) < deps.settings.refresh_batch_size:
            await asyncio.sleep(deps.settings.refresh_interval_s)
