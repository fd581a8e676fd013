"""`rotate-keys`: re-seal every endpoint's signing secrets under the active key, so an old
encryption key can be dropped (aligned_common.keyring; docs/operations.md "Token key rotation").

Safe while the service runs: rows are taken in batches with FOR UPDATE SKIP LOCKED (a row being
changed right now is left for the next run, and counted), and every key still in the ring opens,
so a delivery never meets a secret it cannot read. A secret no key opens is counted and left.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import asyncpg

from aligned_common.db import UnitOfWork
from aligned_common.keyring import DecryptionError, Sealed
from aligned_webhooks.adapters.secret_box import SecretBox

log = logging.getLogger(__name__)

BATCH = 200


@dataclass
class RotationReport:
    endpoints: int = 0
    unreadable: int = 0  # secrets no key in the ring opens: look at these before dropping a key
    left_behind: int = 0  # secrets still under an old key (locked rows, unreadable values)


_OLD = """(secret_key_id <> $1 OR (previous_secret_sealed IS NOT NULL AND previous_secret_key_id <> $1))"""


async def rotate_keys(pool: asyncpg.Pool, schema: str, box: SecretBox) -> RotationReport:
    report = RotationReport()
    last_id = uuid.UUID(int=0)
    while True:
        # role="worker": rotation covers every brand's endpoints (ADR 0004).
        async with UnitOfWork(pool, schema, role="worker") as uow:
            rows = await uow.conn.fetch(
                f"""SELECT id, secret_sealed, secret_key_id, previous_secret_sealed, previous_secret_key_id
                      FROM webhook_endpoints WHERE {_OLD} AND id > $2
                     ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED""",
                box.active_key_id,
                last_id,
                BATCH,
            )
            for row in rows:
                context = str(row["id"])  # what seal/open use for an endpoint's secrets
                try:
                    current = box.reseal(Sealed(row["secret_key_id"], row["secret_sealed"]), context)
                    previous = (
                        box.reseal(
                            Sealed(row["previous_secret_key_id"], row["previous_secret_sealed"]), context
                        )
                        if row["previous_secret_sealed"] is not None
                        else None
                    )
                except DecryptionError:
                    report.unreadable += 1
                    log.error(
                        "an endpoint's secret opens with no key in the ring",
                        extra={"ctx_endpoint_id": context},
                    )
                    continue
                await uow.conn.execute(
                    """UPDATE webhook_endpoints SET secret_sealed = $2, secret_key_id = $3,
                              previous_secret_sealed = $4, previous_secret_key_id = $5 WHERE id = $1""",
                    row["id"],
                    current.blob,
                    current.key_id,
                    previous.blob if previous else None,
                    previous.key_id if previous else None,
                )
                report.endpoints += 1
        if len(rows) < BATCH:
            break
        last_id = rows[-1]["id"]
    async with UnitOfWork(pool, schema, role="worker") as uow:
        report.left_behind = await uow.conn.fetchval(
            f"SELECT count(*) FROM webhook_endpoints WHERE {_OLD}", box.active_key_id
        )
    return report
