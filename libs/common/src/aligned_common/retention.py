"""Nothing grows without bound: each service's tables that only record (published outbox rows,
the inbox's dedupe rows, inbound webhooks, delivery attempts, ...) lose their old rows on a
schedule, in bounded batches, as the service's worker role (it sees every brand's rows, and
bypasses nothing: ADR 0004).

A rule names a table, the timestamp column that ages a row, and the setting that says how
long a row is kept. Every service gets the outbox's and the inbox's rules; a service adds its
own in its ServiceDefinition (`retention=`). Each batch is one short transaction (a DELETE of at
most `PURGE_BATCH` rows found by the column's index), so a purge never holds locks long nor
bloats one transaction, and `aligned_retention_purged_total` shows what went.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import asyncpg

from aligned_common.db import UnitOfWork
from aligned_common.metrics import RETENTION_PURGED
from aligned_common.settings import ServiceSettings

log = logging.getLogger(__name__)

PURGE_BATCH = 5_000
# At most this many batches a round: a table far behind catches up over several rounds
# instead of one round running for minutes.
MAX_BATCHES = 40


@dataclass(frozen=True)
class Retention:
    table: str  # in the service's schema
    column: str  # a timestamptz: a row older than the kept time by it goes
    keep_setting: str  # the service settings' attribute holding the kept time, in seconds
    where: str = "TRUE"  # rows that qualify at all (e.g. only published outbox rows)

    def keep_s(self, settings: ServiceSettings) -> float:
        return float(getattr(settings, self.keep_setting))


# Every service's: published outbox rows (ADR 0003), and the inbox's dedupe rows, kept beyond
# the topics' retention (7 days) so a redelivered event is still recognised.
COMMON_RULES = (
    Retention("outbox", "published_at", "outbox_retention_s", "published_at IS NOT NULL"),
    Retention("processed_events", "processed_at", "processed_events_retention_s"),
)


async def purge(pool: asyncpg.Pool, schema: str, rule: Retention, keep_s: float) -> int:
    """Delete the rule's expired rows, batch by batch; the number deleted."""
    total = 0
    for _ in range(MAX_BATCHES):
        async with UnitOfWork(pool, schema, role="worker") as uow:
            status = await uow.conn.execute(
                f"""DELETE FROM "{schema}"."{rule.table}" WHERE ctid = ANY (ARRAY(
                        SELECT ctid FROM "{schema}"."{rule.table}"
                         WHERE {rule.column} < now() - make_interval(secs => $1) AND ({rule.where})
                         LIMIT $2))""",
                keep_s,
                PURGE_BATCH,
            )
        deleted = int(status.split()[-1])
        total += deleted
        RETENTION_PURGED.labels(schema, rule.table).inc(deleted)
        if deleted < PURGE_BATCH:
            break
    return total


async def purge_all(
    pool: asyncpg.Pool, schema: str, settings: ServiceSettings, rules: tuple[Retention, ...] | list[Retention]
) -> dict[str, int]:
    purged = {}
    for rule in rules:
        deleted = await purge(pool, schema, rule, rule.keep_s(settings))
        if deleted:
            purged[rule.table] = deleted
            log.info(
                "expired rows purged",
                extra={"ctx_service": schema, "ctx_table": rule.table, "ctx_rows": deleted},
            )
    return purged
