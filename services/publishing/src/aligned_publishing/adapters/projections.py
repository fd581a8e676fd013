"""SQL for publishing's own copies of other services' facts: approval policies (and connections,
through aligned_common.known_connections).

Both are written only by event handlers (inside the inbox transaction, so a redelivery changes
nothing) and read by the job commands, which therefore never call another service.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from aligned_common import known_connections
from aligned_common.envelope import EventEnvelope
from aligned_common.events.base import EventData
from aligned_common.guardrails import GuardrailRules
from aligned_common.units import Repository
from aligned_publishing.domain.gate import PolicyView


class SqlPolicies(Repository):
    """service_layer.ports.Policies: our copy of approval's policies, and the brand's gate lock."""

    async def lock_gate(self, brand_id: uuid.UUID, *, exclusive: bool) -> None:
        """Orders a policy change against the job commands of its brand. A command (shared) reads
        the policies and writes its job; the policy consumer (exclusive) writes the policy and
        re-assesses the brand's jobs. Without it, under READ COMMITTED, a job created while a
        policy commits could see neither the other (write skew). Taken first in the transaction,
        before any job row lock, so it never joins a deadlock with them."""
        fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        await self.conn.execute(
            f"SELECT {fn}(hashtextextended('publishing.gate:' || $1::uuid::text, 0))", brand_id
        )

    async def of_brand(self, brand_id: uuid.UUID) -> list[PolicyView]:
        rows = await self.conn.fetch(
            "SELECT policy_id, mode, connection_id, user_id, waiver_roles FROM approval_policies WHERE brand_id = $1",
            brand_id,
        )
        return [
            PolicyView(r["policy_id"], r["mode"], r["connection_id"], r["user_id"], tuple(r["waiver_roles"]))
            for r in rows
        ]

    async def put(self, brand_id: uuid.UUID, policy: PolicyView, at: datetime) -> None:
        await self.conn.execute(
            """INSERT INTO approval_policies (policy_id, brand_id, connection_id, user_id, mode, waiver_roles, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (policy_id) DO UPDATE SET connection_id = excluded.connection_id, user_id = excluded.user_id,
                   mode = excluded.mode, waiver_roles = excluded.waiver_roles, updated_at = excluded.updated_at""",
            policy.policy_id,
            brand_id,
            policy.connection_id,
            policy.user_id,
            policy.mode,
            list(policy.waiver_roles),
            at,
        )

    async def delete(self, brand_id: uuid.UUID, policy_id: uuid.UUID) -> None:
        await self.conn.execute(
            "DELETE FROM approval_policies WHERE brand_id = $1 AND policy_id = $2", brand_id, policy_id
        )


class SqlGuardrails(Repository):
    """service_layer.ports.Guardrails: our copy of the brand kit's rules (brandkit's events)."""

    async def of_brand(self, brand_id: uuid.UUID) -> GuardrailRules | None:
        raw = await self.conn.fetchval(
            "SELECT rules::text FROM brand_guardrails WHERE brand_id = $1", brand_id
        )
        return None if raw is None else GuardrailRules.model_validate_json(raw)

    async def record(self, brand_id: uuid.UUID, version: int, rules: GuardrailRules, at: datetime) -> None:
        # Only a newer version replaces ours: a redelivered or late older one changes nothing.
        await self.conn.execute(
            """INSERT INTO brand_guardrails (brand_id, version, rules, updated_at) VALUES ($1, $2, $3::jsonb, $4)
               ON CONFLICT (brand_id) DO UPDATE SET version = excluded.version, rules = excluded.rules,
                   updated_at = excluded.updated_at
               WHERE brand_guardrails.version < excluded.version""",
            brand_id,
            version,
            rules.model_dump_json(),
            at,
        )


class SqlConnections(Repository):
    """service_layer.ports.Connections: our copy of connections' events (aligned_common.known_connections)."""

    async def known(
        self, brand_id: uuid.UUID, connection_ids: Sequence[uuid.UUID]
    ) -> Mapping[uuid.UUID, Any]:
        return await known_connections.of_brand(self.conn, brand_id, list(connection_ids))

    async def record(self, envelope: EventEnvelope, data: EventData) -> None:
        await known_connections.record(self.conn, envelope, data)
