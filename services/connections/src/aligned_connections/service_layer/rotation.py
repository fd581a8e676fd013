"""`rotate-keys`: re-encrypt every stored secret under the active key.

Safe while the service runs: rows are taken in batches with FOR UPDATE SKIP LOCKED (a row being
refreshed right now is left for the next run, and reported), and every key still in the ring
decrypts, so readers never see a value they cannot open. A value no key opens is reported and
left as it is. Drop an old key only after a run reports nothing left behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aligned_connections.adapters.crypto import DecryptionError, TokenCipher
from aligned_connections.adapters.vault import ACCESS, REFRESH, context, verifier_context
from aligned_connections.runtime import Runtime

log = logging.getLogger(__name__)

BATCH = 200


@dataclass
class RotationReport:
    connections: int = 0
    oauth_states: int = 0
    unreadable: int = 0  # values no key in the ring opens: look at these before dropping a key
    left_behind: int = 0  # values still under an old key (locked rows, unreadable values)


async def rotate_keys(rt: Runtime) -> RotationReport:
    report = RotationReport()
    await _rotate_connections(rt, report)
    await _rotate_oauth_states(rt, report)
    report.left_behind = await _count_left_behind(rt)
    return report


async def _rotate_connections(rt: Runtime, report: RotationReport) -> None:
    cipher = rt.vault.cipher
    last_id = None
    while True:
        # role="worker": rotation covers every brand's rows. Keyset pages: a row that cannot be
        # re-encrypted is passed over, not read again and again.
        async with rt.uow(role="worker") as uow:
            rows = await uow.conn.fetch(
                """SELECT id, access_token, refresh_token FROM platform_connections
                   WHERE (split_part(access_token, ':', 2) <> $1 OR split_part(refresh_token, ':', 2) <> $1)
                     AND ($2::uuid IS NULL OR id > $2)
                   ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED""",
                cipher.active_key_id,
                last_id,
                BATCH,
            )
            for row in rows:
                try:
                    access = _reseal(cipher, row["access_token"], context(row["id"], ACCESS))
                    refresh = _reseal(cipher, row["refresh_token"], context(row["id"], REFRESH))
                except DecryptionError:
                    report.unreadable += 1
                    log.error(
                        "a connection's token opens with no key in the ring",
                        extra={"ctx_connection_id": str(row["id"])},
                    )
                    continue
                await uow.conn.execute(
                    "UPDATE platform_connections SET access_token = $2, refresh_token = $3 WHERE id = $1",
                    row["id"],
                    access,
                    refresh,
                )
                report.connections += 1
        if len(rows) < BATCH:
            return
        last_id = rows[-1]["id"]


async def _rotate_oauth_states(rt: Runtime, report: RotationReport) -> None:
    cipher = rt.vault.cipher
    last_nonce = ""
    while True:
        async with rt.uow(role="worker") as uow:
            rows = await uow.conn.fetch(
                """SELECT nonce, code_verifier FROM oauth_states
                   WHERE split_part(code_verifier, ':', 2) <> $1 AND nonce > $2 AND used_at IS NULL
                   ORDER BY nonce LIMIT $3 FOR UPDATE SKIP LOCKED""",
                cipher.active_key_id,
                last_nonce,
                BATCH,
            )
            for row in rows:
                try:
                    sealed = _reseal(cipher, row["code_verifier"], verifier_context(row["nonce"]))
                except DecryptionError:
                    report.unreadable += 1
                    continue
                await uow.conn.execute(
                    "UPDATE oauth_states SET code_verifier = $2 WHERE nonce = $1", row["nonce"], sealed
                )
                report.oauth_states += 1
        if len(rows) < BATCH:
            return
        last_nonce = rows[-1]["nonce"]


async def _count_left_behind(rt: Runtime) -> int:
    async with rt.uow(role="worker") as uow:
        return await uow.conn.fetchval(
            """SELECT count(*) FROM platform_connections
               WHERE split_part(access_token, ':', 2) <> $1 OR split_part(refresh_token, ':', 2) <> $1""",
            rt.vault.cipher.active_key_id,
        )


def _reseal(cipher: TokenCipher, ciphertext: str | None, ctx: str) -> str | None:
    if ciphertext is None or not cipher.needs_rotation(ciphertext):
        return ciphertext
    return cipher.encrypt(cipher.decrypt(ciphertext, ctx), ctx)
