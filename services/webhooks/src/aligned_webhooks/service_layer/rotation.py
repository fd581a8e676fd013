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

from aligned_common.keyring import DecryptionError
from aligned_webhooks.adapters.secret_box import SecretBox
from aligned_webhooks.service_layer.ports import Units

log = logging.getLogger(__name__)

BATCH = 200


@dataclass
class RotationReport:
    endpoints: int = 0
    unreadable: int = 0  # secrets no key in the ring opens: look at these before dropping a key
    left_behind: int = 0  # secrets still under an old key (locked rows, unreadable values)


async def rotate_keys(units: Units, box: SecretBox) -> RotationReport:
    report = RotationReport()
    last_id = uuid.UUID(int=0)
    while True:
        # role="worker": rotation covers every brand's endpoints (ADR 0004).
        async with units(role="worker") as uow:
            rows = await uow.endpoints.under_old_keys(box.active_key_id, last_id, BATCH)
            for endpoint_id, sealed, previous_sealed in rows:
                context = str(endpoint_id)  # what seal/open use for an endpoint's secrets
                try:
                    current = box.reseal(sealed, context)
                    previous = box.reseal(previous_sealed, context) if previous_sealed is not None else None
                except DecryptionError:
                    report.unreadable += 1
                    log.error(
                        "an endpoint's secret opens with no key in the ring",
                        extra={"ctx_endpoint_id": context},
                    )
                    continue
                await uow.endpoints.store_resealed(endpoint_id, current, previous)
                report.endpoints += 1
        if len(rows) < BATCH:
            break
        last_id = rows[-1][0]
    async with units(role="worker") as uow:
        report.left_behind = await uow.endpoints.count_under_old_keys(box.active_key_id)
    return report
