"""The ports the service layer works through: repositories behind small protocols, a unit of
work that exposes them, and the factory of units. adapters/ has the SQL ones; the unit tests
have in-memory fakes (tests/unit/fakes.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from aligned_common.envelope import EventEnvelope
from aligned_common.events.publishing import AttemptRequested
from aligned_common.inbox import InboxEntry
from aligned_common.units import Opener, Transaction
from aligned_connections.domain.attempts import AttemptRecord, AttemptStatus
from aligned_connections.domain.connection import Connection, SealedTokens, Status
from aligned_connections.domain.rate_limit import Decision


class Connections(Protocol):
    async def get(
        self, brand_id: uuid.UUID, connection_id: uuid.UUID, *, lock: bool = False
    ) -> Connection | None: ...

    async def find_by_account(
        self, brand_id: uuid.UUID, platform: str, account_id: str, *, lock: bool = False
    ) -> Connection | None: ...

    async def find_across_brands(self, platform: str, account_id: str) -> list[Connection]: ...

    async def connected_on(self, platforms: list[str], limit: int) -> list[Connection]:
        """Every brand's connected accounts on these platforms (the engagement poll's round)."""
        ...

    async def list_for_brand(
        self, brand_id: uuid.UUID, platform: str | None, status: str | None
    ) -> list[Connection]: ...

    async def expiring_within(self, brand_id: uuid.UUID, seconds: float) -> list[Connection]: ...

    async def stats(self, brand_id: uuid.UUID) -> list[tuple[str, str, int]]: ...

    async def insert(
        self,
        *,
        connection_id: uuid.UUID,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        platform: str,
        account_id: str,
        account_name: str,
        scopes: list[str],
        tokens: SealedTokens,
        connected_by: str,
    ) -> None: ...

    async def store_reconnect(
        self,
        connection_id: uuid.UUID,
        *,
        account_name: str,
        scopes: list[str],
        tokens: SealedTokens,
        connected_by: str,
    ) -> None: ...

    async def store_refreshed(self, connection_id: uuid.UUID, tokens: SealedTokens) -> None: ...

    async def record_transient_failure(
        self, connection_id: uuid.UUID, error: str, backoff_s: float
    ) -> None: ...

    async def set_status(self, connection_id: uuid.UUID, status: Status, error: str | None) -> None: ...

    async def mark_verified(self, connection_id: uuid.UUID, account_name: str) -> None: ...

    async def wipe_tokens(self, connection_id: uuid.UUID) -> None: ...

    async def claim_due_refreshes(
        self, window_s: float, lease_s: float, limit: int
    ) -> list[tuple[uuid.UUID, uuid.UUID]]: ...

    async def under_old_keys(
        self, active_key_id: str, after_id: uuid.UUID | None, limit: int
    ) -> list[tuple[uuid.UUID, str | None, str | None]]: ...

    async def store_resealed(
        self, connection_id: uuid.UUID, access_token_ct: str | None, refresh_token_ct: str | None
    ) -> None: ...

    async def count_under_old_keys(self, active_key_id: str) -> int: ...


class Attempts(Protocol):
    async def get(self, key: str, *, lock: bool = False) -> AttemptRecord | None: ...

    async def connection_and_record(
        self,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        data: AttemptRequested,
        usable: Sequence[Status],
    ) -> tuple[Connection | None, AttemptRecord | None]:
        """The attempt's connection (None: not in this brand) and, only when it is on the
        attempt's platform with a `usable` status, the attempt recorded under its key (pending,
        if new) and locked for this transaction."""
        ...

    async def take_token_and_lease(
        self,
        key: str,
        attempt: int,
        lease_s: float,
        connection_id: uuid.UUID,
        brand_id: uuid.UUID,
        capacity: float,
        refill_per_s: float,
    ) -> Decision:
        """A token from the connection's rate bucket (domain.rate_limit.take; a new bucket starts
        full) and, if there was one, the record leased (in_flight for `lease_s`)."""
        ...

    async def settle(
        self,
        key: str,
        status: AttemptStatus,
        *,
        calls: int,
        remote_id: str | None = None,
        url: str | None = None,
        error: str | None = None,
        platform_message: str | None = None,
        event: EventEnvelope | None = None,
    ) -> None:
        """What a handling found out; the lease ends. `event` (made with `uow.event`): its outbox
        row goes in the same statement."""
        ...

    async def release_lease(self, key: str, error: str) -> None: ...

    async def remote_id_taken(self, connection_id: uuid.UUID, remote_id: str, key: str) -> bool: ...

    async def published_remote_ids(
        self, connection_id: uuid.UUID, since: datetime | None, limit: int
    ) -> list[str]: ...

    async def block_bucket(self, connection_id: uuid.UUID, seconds: float) -> None: ...


class OAuthStates(Protocol):
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
    ) -> None: ...

    async def forget_abandoned(self, brand_id: uuid.UUID) -> None: ...

    async def consume(self, nonce: str, brand_id: uuid.UUID) -> tuple[str, str] | None: ...

    async def under_old_keys(
        self, active_key_id: str, after_nonce: str, limit: int
    ) -> list[tuple[str, str]]: ...

    async def store_resealed(self, nonce: str, code_verifier_ct: str | None) -> None: ...


class UnitOfWork(Transaction, Protocol):
    """One transaction: the repositories on it, and `emit` for the events it commits with."""

    @property
    def connections(self) -> Connections: ...

    @property
    def attempts(self) -> Attempts: ...

    @property
    def oauth_states(self) -> OAuthStates: ...


class Units(Opener[UnitOfWork], Protocol):
    """Where units of work come from (aligned_common.units.Opens): open a brand-scoped (or
    worker) one, or `finish` an inbox entry of a `transaction=False` route (its outcome commits
    with the inbox record)."""

    def finish(self, entry: InboxEntry) -> AbstractAsyncContextManager[UnitOfWork]: ...
