"""SQL for oauth_states: the single-use record behind an OAuth authorization's signed state."""

from __future__ import annotations

import uuid
from datetime import datetime

from aligned_common.units import Repository


class SqlOAuthStates(Repository):
    """The oauth_states repository on one unit of work's connection."""

    async def add(
        self,
        *,
        nonce: str,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        user_id: str,
        platform: str,
        redirect_uri: str,
        code_verifier_ct: str,
        expires_at: datetime,
    ) -> None:
        await self.conn.execute(
            """INSERT INTO oauth_states (nonce, brand_id, tenant_id, user_id, platform, redirect_uri, code_verifier, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            nonce,
            brand_id,
            tenant_id,
            user_id,
            platform,
            redirect_uri,
            code_verifier_ct,
            expires_at,
        )

    async def forget_abandoned(self, brand_id: uuid.UUID) -> None:
        """Old, never-finished authorizations of this brand are of no use to anyone."""
        await self.conn.execute(
            "DELETE FROM oauth_states WHERE brand_id = $1 AND expires_at < now() - interval '1 day'",
            brand_id,
        )

    async def consume(self, nonce: str, brand_id: uuid.UUID) -> tuple[str, str] | None:
        """(redirect uri, sealed code verifier) of an unused, unexpired state, now marked used;
        None when it was used already or has expired."""
        row = await self.conn.fetchrow(
            """UPDATE oauth_states SET used_at = now()
               WHERE nonce = $1 AND brand_id = $2 AND used_at IS NULL AND expires_at > now()
               RETURNING redirect_uri, code_verifier""",
            nonce,
            brand_id,
        )
        return None if row is None else (row["redirect_uri"], row["code_verifier"])

    # -- key rotation ---------------------------------------------------------------------------

    async def under_old_keys(self, active_key_id: str, after_nonce: str, limit: int) -> list[tuple[str, str]]:
        """(nonce, sealed verifier) of unused states under another key, locked, in keyset pages."""
        rows = await self.conn.fetch(
            """SELECT nonce, code_verifier FROM oauth_states
               WHERE split_part(code_verifier, ':', 2) <> $1 AND nonce > $2 AND used_at IS NULL
               ORDER BY nonce LIMIT $3 FOR UPDATE SKIP LOCKED""",
            active_key_id,
            after_nonce,
            limit,
        )
        return [(row["nonce"], row["code_verifier"]) for row in rows]

    async def store_resealed(self, nonce: str, code_verifier_ct: str | None) -> None:
        await self.conn.execute(
            "UPDATE oauth_states SET code_verifier = $2 WHERE nonce = $1", nonce, code_verifier_ct
        )
