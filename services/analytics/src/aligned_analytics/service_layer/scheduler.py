"""The sync scheduler and partition maintenance: cross-brand loops, safe with several replicas.

Both run as the schema's `_worker` role because they span brands (row-level security would
hide every brand but one). Replicas never double-claim: due rows are taken with
FOR UPDATE SKIP LOCKED and pushed to their next slot in the same transaction.
"""

from __future__ import annotations

import logging

from aligned_analytics.config import Settings
from aligned_analytics.service_layer.ports import UnitsOfWork
from aligned_analytics.service_layer.sync import request_sync

log = logging.getLogger(__name__)


async def schedule_due_syncs(uows: UnitsOfWork, settings: Settings) -> int:
    """One tick: routine syncs of due accounts, then first syncs of new posts. Returns syncs requested."""
    requested = 0
    while True:
        async with uows(role="worker") as uow:  # cross-brand claim, see module doc
            due = await uow.accounts.claim_due_accounts(
                settings.sync_interval_s, settings.scheduler_batch_size
            )
            for account in due:
                remote_ids = await uow.posts.tracked_remote_ids(
                    account["connection_id"], settings.tracked_post_days
                )
                await request_sync(uow, account, trigger="schedule", remote_ids=remote_ids)
        requested += len(due)
        if len(due) < settings.scheduler_batch_size:
            break
    while True:
        async with uows(role="worker") as uow:  # cross-brand claim, see module doc
            batches = await uow.posts.claim_posts_due_first_sync(
                settings.first_post_sync_delay_s, settings.scheduler_batch_size
            )
            for batch in batches:
                await request_sync(uow, batch, trigger="first_post", remote_ids=list(batch["remote_ids"]))
        requested += len(batches)
        if not batches:
            break
    return requested


async def maintain(uows: UnitsOfWork, settings: Settings) -> dict[str, list[str] | int]:
    """Create partitions ahead, drop those past retention, time out unanswered syncs."""
    async with uows(role="worker") as uow:  # spans brands and owns no brand's rows
        created = await uow.partitions.ensure_months_ahead(settings.partitions_ahead_months)
        dropped = await uow.partitions.drop_expired(settings.retention_months)
        timed_out = await uow.syncs.time_out_stale(settings.sync_timeout_s)
    if created or dropped or timed_out:
        log.info(
            "analytics maintenance",
            extra={"ctx_created": created, "ctx_dropped": dropped, "ctx_timed_out": timed_out},
        )
    return {"created": created, "dropped": dropped, "timed_out": timed_out}
