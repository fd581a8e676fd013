"""`rotate-keys`: re-encrypt every stored secret under the active key.

Safe while the service runs: rows are taken in batches with FOR UPDATE SKIP LOCKED (a row being
refreshed right now is left for the next run, and reported), and every key still in the ring
decrypts, so readers never see a value they cannot open. A value no key opens is reported and
left as it is. Drop an old key only after a run reports nothing left behind.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from aligned_connections.adapters.crypto import DecryptionError, TokenCipher
from aligned_connections.adapters.vault import ACCESS, REFRESH, context, verifier_context
from aligned_connections.service_layer.deps import Deps

log = logging.getLogger(__name__)

BATCH = 200


@dataclass
class RotationReport:
    connections: int = 0
    oauth_states: int = 0
    unreadable: int = 0  # values no key in the ring opens: look at these before dropping a key
    left_behind: int = 0  # values still under an old key (locked rows, unreadable values)


async def rotate_keys(deps: Deps) -> RotationReport:
    report = RotationReport()
    await _rotate_connections(deps, report)
    await _rotate_oauth_states(deps, report)
    async with deps.uow(role="worker") as uow:
        report.left_behind = await uow.connections.count_under_old_keys(deps.vault.cipher.active_key_id)
    return report


async def _rotate_connections(deps: Deps, report: RotationReport) -> None:
    cipher = deps.vault.cipher
    last_id: uuid.UUID | None = None
    while True:
        # role="worker": rotation covers every brand's rows. Keyset pages: a row that cannot be
        # re-encrypted is passed over, not read again and again.
        async with deps.uow(role="worker") as uow:
            rows = await uow.connections.under_old_keys(cipher.active_key_id, last_id, BATCH)
            for connection_id, access_ct, refresh_ct in rows:
                try:
                    access = _reseal(cipher, access_ct, context(connection_id, ACCESS))
                    refresh = _reseal(cipher, refresh_ct, context(connection_id, REFRESH))
                except DecryptionError:
                    report.unreadable += 1
                    log.error(
                        "a connection's token opens with no key in the ring",
                        extra={"ctx_connection_id": str(connection_id)},
                    )
                    continue
                await uow.connections.store_resealed(connection_id, access, refresh)
                report.connections += 1
        if len(rows) < BATCH:
            return
        last_id = rows[-1][0]


async def _rotate_oauth_states(deps: Deps, report: RotationReport) -> None:
    cipher = deps.vault.cipher
    last_nonce = ""
    while True:
        async with deps.uow(role="worker") as uow:
            rows = await uow.oauth_states.under_old_keys(cipher.active_key_id, last_nonce, BATCH)
            for nonce, verifier_ct in rows:
                try:
                    sealed = _reseal(cipher, verifier_ct, verifier_context(nonce))
                except DecryptionError:
                    report.unreadable += 1
                    continue
                await uow.oauth_states.store_resealed(nonce, sealed)
                report.oauth_states += 1
        if len(rows) < BATCH:
            return
        last_nonce = rows[-1][0]


def _reseal(cipher: TokenCipher, ciphertext: str | None, ctx: str) -> str | None:
    if ciphertext is None or not cipher.needs_rotation(ciphertext):
        return ciphertext
    return cipher.encrypt(cipher.decrypt(ciphertext, ctx), ctx)
