"""In-memory fakes of the connections service's ports (service_layer/ports.py) and of a
platform, so the handlers' rules run without PostgreSQL, Kafka or HTTP.

The fakes keep the SQL adapters' meaning, not their mechanics: a unit of work is
aligned_testing's FakeTransaction (its events are kept when it commits; when it raised, every
table is put back as it was).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from aligned_common.app import Database
from aligned_common.events.publishing import AttemptRequested
from aligned_connections.adapters.crypto import TokenCipher
from aligned_connections.adapters.platforms import (
    AuthFailure,
    PlatformAccount,
    PublishedPost,
    PublishRequest,
    TokenSet,
)
from aligned_connections.adapters.platforms.models import PostState, PostStatus
from aligned_connections.adapters.registry import PlatformRegistry
from aligned_connections.adapters.sharded_client import ShardedClient
from aligned_connections.adapters.vault import ACCESS, REFRESH, TokenVault
from aligned_connections.config import Settings
from aligned_connections.domain.attempts import AttemptRecord, AttemptStatus
from aligned_connections.domain.connection import Connection, SealedTokens, Status
from aligned_connections.domain.rate_limit import Bucket
from aligned_connections.service_layer.deps import Deps
from aligned_testing.clock import StillClock
from aligned_testing.fakes import FakeTables, FakeTransaction

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Store(FakeTables):
    """What the database would hold: rows of the service's tables, and committed events."""

    clock: StillClock = field(default_factory=lambda: StillClock(NOW))
    connections: dict[uuid.UUID, Connection] = field(default_factory=dict)
    attempts: dict[str, dict[str, object]] = field(default_factory=dict)
    buckets: dict[uuid.UUID, Bucket] = field(default_factory=dict)
    oauth_states: dict[str, dict[str, object]] = field(default_factory=dict)
    finished: list[uuid.UUID] = field(default_factory=list)  # inbox entries finished (event ids)


class FakeConnections:
    def __init__(self, store: Store) -> None:
        self._store = store

    def _change(self, connection_id: uuid.UUID, **changes: object) -> None:
        current = self._store.connections[connection_id]
        self._store.connections[connection_id] = dataclasses.replace(
            current, updated_at=self._store.clock.now(), **changes
        )

    async def get(
        self, brand_id: uuid.UUID, connection_id: uuid.UUID, *, lock: bool = False
    ) -> Connection | None:
        found = self._store.connections.get(connection_id)
        return found if found is not None and found.brand_id == brand_id else None

    async def find_by_account(
        self, brand_id: uuid.UUID, platform: str, account_id: str, *, lock: bool = False
    ) -> Connection | None:
        return next(
            (
                c
                for c in self._store.connections.values()
                if (c.brand_id, c.platform, c.account_id) == (brand_id, platform, account_id)
            ),
            None,
        )

    async def find_across_brands(self, platform: str, account_id: str) -> list[Connection]:
        return [
            c
            for c in self._store.connections.values()
            if (c.platform, c.account_id) == (platform, account_id)
        ]

    async def list_for_brand(
        self, brand_id: uuid.UUID, platform: str | None, status: str | None
    ) -> list[Connection]:
        return sorted(
            (
                c
                for c in self._store.connections.values()
                if c.brand_id == brand_id
                and platform in (None, c.platform)
                and status in (None, c.status.value)
            ),
            key=lambda c: (c.platform, c.account_name),
        )

    async def expiring_within(self, brand_id: uuid.UUID, seconds: float) -> list[Connection]:
        now = self._store.clock.now()
        return [
            c
            for c in await self.list_for_brand(brand_id, None, Status.CONNECTED.value)
            if c.expires_within(now, seconds)
        ]

    async def stats(self, brand_id: uuid.UUID) -> list[tuple[str, str, int]]:
        counts: dict[tuple[str, str], int] = {}
        for c in await self.list_for_brand(brand_id, None, None):
            counts[c.platform, c.status.value] = counts.get((c.platform, c.status.value), 0) + 1
        return [(platform, status, n) for (platform, status), n in sorted(counts.items())]

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
    ) -> None:
        self.add(connection_id, brand_id, tenant_id, platform, account_id, tokens, account_name, scopes)

    def add(
        self,
        connection_id: uuid.UUID,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        platform: str,
        account_id: str,
        tokens: SealedTokens,
        account_name: str = "alice",
        scopes: list[str] | None = None,
    ) -> None:
        now = self._store.clock.now()
        self._store.connections[connection_id] = Connection(
            id=connection_id,
            brand_id=brand_id,
            tenant_id=tenant_id,
            platform=platform,
            account_id=account_id,
            account_name=account_name,
            scopes=scopes or ["read", "write"],
            access_token_ct=tokens.access_token_ct,
            refresh_token_ct=tokens.refresh_token_ct,
            expires_at=tokens.expires_at,
            status=Status.CONNECTED,
            last_verified_at=now,
            last_error=None,
            refresh_failures=0,
            next_refresh_at=None,
            created_at=now,
            updated_at=now,
        )

    async def store_reconnect(
        self,
        connection_id: uuid.UUID,
        *,
        account_name: str,
        scopes: list[str],
        tokens: SealedTokens,
        connected_by: str,
    ) -> None:
        self._store_tokens(
            connection_id, tokens, account_name=account_name, scopes=scopes, status=Status.CONNECTED
        )

    async def store_refreshed(self, connection_id: uuid.UUID, tokens: SealedTokens) -> None:
        self._store_tokens(connection_id, tokens)

    def _store_tokens(self, connection_id: uuid.UUID, tokens: SealedTokens, **changes: object) -> None:
        current = self._store.connections[connection_id]
        self._change(
            connection_id,
            **changes,
            access_token_ct=tokens.access_token_ct,
            refresh_token_ct=tokens.refresh_token_ct or current.refresh_token_ct,  # COALESCE
            expires_at=tokens.expires_at,
            last_error=None,
            refresh_failures=0,
            next_refresh_at=None,
        )

    async def record_transient_failure(self, connection_id: uuid.UUID, error: str, backoff_s: float) -> None:
        current = self._store.connections[connection_id]
        self._change(
            connection_id,
            refresh_failures=current.refresh_failures + 1,
            last_error=error,
            next_refresh_at=self._store.clock.now() + timedelta(seconds=backoff_s),
        )

    async def set_status(self, connection_id: uuid.UUID, status: Status, error: str | None) -> None:
        self._change(connection_id, status=status, last_error=error)

    async def mark_verified(self, connection_id: uuid.UUID, account_name: str) -> None:
        self._change(
            connection_id,
            last_verified_at=self._store.clock.now(),
            account_name=account_name,
            last_error=None,
        )

    async def wipe_tokens(self, connection_id: uuid.UUID) -> None:
        self._change(connection_id, access_token_ct=None, refresh_token_ct=None, status=Status.DISCONNECTED)

    async def claim_due_refreshes(
        self, window_s: float, lease_s: float, limit: int
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        now = self._store.clock.now()
        due = sorted(
            (
                c
                for c in self._store.connections.values()
                if c.status is Status.CONNECTED
                and c.can_refresh
                and c.expires_within(now, window_s)
                and (c.next_refresh_at is None or c.next_refresh_at <= now)
            ),
            key=lambda c: c.expires_at or now,
        )[:limit]
        for c in due:
            self._change(c.id, next_refresh_at=now + timedelta(seconds=lease_s))
        return [(c.id, c.brand_id) for c in due]

    async def under_old_keys(
        self, active_key_id: str, after_id: uuid.UUID | None, limit: int
    ) -> list[tuple[uuid.UUID, str | None, str | None]]:
        raise NotImplementedError("key rotation is tested on PostgreSQL")

    async def store_resealed(
        self, connection_id: uuid.UUID, access_token_ct: str | None, refresh_token_ct: str | None
    ) -> None:
        raise NotImplementedError("key rotation is tested on PostgreSQL")

    async def count_under_old_keys(self, active_key_id: str) -> int:
        raise NotImplementedError("key rotation is tested on PostgreSQL")


class FakeAttempts:
    """publish_attempts rows as dicts (lease_until a datetime), and the rate buckets."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def _record(self, row: dict[str, object]) -> AttemptRecord:
        lease_until = row["lease_until"]
        remaining = (
            (lease_until - self._store.clock.now()).total_seconds()
            if isinstance(lease_until, datetime)
            else None
        )
        return AttemptRecord(
            idempotency_key=str(row["idempotency_key"]),
            status=AttemptStatus(str(row["status"])),
            lease_remaining_s=remaining,
            remote_id=row["remote_id"],  # type: ignore[arg-type]
            url=row["url"],  # type: ignore[arg-type]
            platform_message=row["platform_message"],  # type: ignore[arg-type]
            calls=int(row["calls"]),  # type: ignore[call-overload]
        )

    async def get(self, key: str, *, lock: bool = False) -> AttemptRecord | None:
        row = self._store.attempts.get(key)
        return self._record(row) if row is not None else None

    async def record_and_lock(
        self, brand_id: uuid.UUID, tenant_id: uuid.UUID, data: AttemptRequested
    ) -> AttemptRecord:
        row = self._store.attempts.setdefault(
            data.idempotency_key,
            {
                "idempotency_key": data.idempotency_key,
                "connection_id": data.connection_id,
                "status": AttemptStatus.PENDING.value,
                "lease_until": None,
                "remote_id": None,
                "url": None,
                "platform_message": None,
                "last_error": None,
                "calls": 0,
                "last_attempt": data.attempt,
            },
        )
        row["last_attempt"] = max(int(row["last_attempt"]), data.attempt)  # type: ignore[call-overload]
        return self._record(row)

    async def take_lease(
        self, key: str, attempt: int, lease_s: float, bucket: tuple[uuid.UUID, float, datetime]
    ) -> None:
        connection_id, tokens, at = bucket
        self._store.buckets[connection_id] = dataclasses.replace(
            self._store.buckets[connection_id], tokens=tokens, updated_at=at
        )
        row = self._store.attempts[key]
        row["status"] = AttemptStatus.IN_FLIGHT.value
        row["lease_until"] = self._store.clock.now() + timedelta(seconds=lease_s)

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
    ) -> None:
        row = self._store.attempts[key]
        row.update(
            status=status.value,
            calls=int(row["calls"]) + calls,  # type: ignore[call-overload]
            remote_id=remote_id or row["remote_id"],
            url=url or row["url"],
            last_error=error,
            platform_message=platform_message,
            lease_until=None,
        )

    async def release_lease(self, key: str, error: str) -> None:
        row = self._store.attempts[key]
        if row["status"] == AttemptStatus.IN_FLIGHT.value:
            row.update(status=AttemptStatus.UNKNOWN.value, lease_until=None, last_error=error)

    async def remote_id_taken(self, connection_id: uuid.UUID, remote_id: str, key: str) -> bool:
        return any(
            row["connection_id"] == connection_id
            and row["remote_id"] == remote_id
            and row["idempotency_key"] != key
            and row["status"] == AttemptStatus.PUBLISHED.value
            for row in self._store.attempts.values()
        )

    async def published_remote_ids(
        self, connection_id: uuid.UUID, since: datetime | None, limit: int
    ) -> list[str]:
        return [
            str(row["remote_id"])
            for row in self._store.attempts.values()
            if row["connection_id"] == connection_id and row["status"] == AttemptStatus.PUBLISHED.value
        ][:limit]

    async def lock_bucket(
        self, connection_id: uuid.UUID, brand_id: uuid.UUID, capacity: float
    ) -> tuple[Bucket, datetime]:
        now = self._store.clock.now()
        bucket = self._store.buckets.setdefault(connection_id, Bucket(capacity, now, None))
        return bucket, now

    async def store_bucket(self, connection_id: uuid.UUID, tokens: float, at: datetime) -> None:
        self._store.buckets[connection_id] = dataclasses.replace(
            self._store.buckets[connection_id], tokens=tokens, updated_at=at
        )

    async def block_bucket(self, connection_id: uuid.UUID, seconds: float) -> None:
        now = self._store.clock.now()
        current = self._store.buckets[connection_id]
        until = now + timedelta(seconds=seconds)
        blocked = max(current.blocked_until or until, until)
        self._store.buckets[connection_id] = Bucket(0.0, now, blocked)


class FakeOAuthStates:
    def __init__(self, store: Store) -> None:
        self._store = store

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
        self._store.oauth_states[nonce] = {
            "brand_id": brand_id,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier_ct,
            "expires_at": expires_at,
            "used": False,
        }

    async def forget_abandoned(self, brand_id: uuid.UUID) -> None:
        pass

    async def consume(self, nonce: str, brand_id: uuid.UUID) -> tuple[str, str] | None:
        row = self._store.oauth_states.get(nonce)
        if row is None or row["brand_id"] != brand_id or row["used"]:
            return None
        if row["expires_at"] <= self._store.clock.now():  # type: ignore[operator]
            return None
        row["used"] = True
        return str(row["redirect_uri"]), str(row["code_verifier"])

    async def under_old_keys(self, active_key_id: str, after_nonce: str, limit: int) -> list[tuple[str, str]]:
        raise NotImplementedError("key rotation is tested on PostgreSQL")

    async def store_resealed(self, nonce: str, code_verifier_ct: str | None) -> None:
        raise NotImplementedError("key rotation is tested on PostgreSQL")


class FakeUnitOfWork(FakeTransaction):
    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.connections = FakeConnections(store)
        self.attempts = FakeAttempts(store)
        self.oauth_states = FakeOAuthStates(store)


class FakeEntry:
    """An inbox entry of a `transaction=False` route: finished once, with its event's id."""

    def __init__(self) -> None:
        self.event_id = uuid.uuid4()


class FakeUnits:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.opened = 0  # units of work begun (each one transaction on PostgreSQL)

    def __call__(self, brand_id: uuid.UUID | None = None, *, role: str = "app") -> FakeUnitOfWork:
        self.opened += 1
        return FakeUnitOfWork(self.store)

    @asynccontextmanager
    async def finish(self, entry: FakeEntry) -> AsyncIterator[FakeUnitOfWork]:  # type: ignore[override]
        if entry.event_id in self.store.finished:
            raise RuntimeError("an inbox entry is finished once")
        async with self() as uow:
            yield uow
        self.store.finished.append(entry.event_id)


class FakePlatform:
    """A platform whose answers the test scripts: each call takes the next scripted answer, or
    does the ordinary thing when none is left."""

    platform = "sandbox"

    def __init__(self) -> None:
        self.posts: dict[str, str] = {}  # remote id -> text
        # (error, landed): publish raises the error; `landed` says whether the post exists anyway
        # (a lost answer, a 500 after storing it).
        self.publish_answers: list[tuple[Exception, bool]] = []
        self.refresh_answers: list[Exception | TokenSet] = []
        self.account_answers: list[Exception] = []
        self.calls: list[str] = []
        self.requests: list[PublishRequest] = []  # every publish request, as the adapter got it

    async def authorize_url(
        self, state: str, code_challenge: str, redirect_uri: str, scopes: list[str]
    ) -> str:
        return f"https://platform.test/authorize?state={state}"

    async def exchange_code(self, grant: object) -> TokenSet:
        return tokens("access-1", "refresh-1")

    async def refresh(self, refresh_token: str) -> TokenSet:
        self.calls.append("refresh")
        answer = self.refresh_answers.pop(0) if self.refresh_answers else tokens("access-2", refresh_token)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def revoke(self, token: str) -> None:
        self.calls.append("revoke")

    async def get_account(self, access_token: str) -> PlatformAccount:
        self.calls.append("get_account")
        if self.account_answers:
            raise self.account_answers.pop(0)
        return PlatformAccount(id="acct-1", name="alice")

    async def publish(self, access_token: str, request: PublishRequest) -> PublishedPost:
        self.calls.append("publish")
        self.requests.append(request)
        error, landed = self.publish_answers.pop(0) if self.publish_answers else (None, True)
        remote_id = f"post-{len(self.posts) + 1}"
        if landed:
            self.posts[remote_id] = request.text
        if error is not None:
            raise error
        return PublishedPost(remote_id=remote_id)

    async def get_post_status(self, access_token: str, remote_id: str) -> PostStatus | None:
        self.calls.append("get_post_status")
        if remote_id not in self.posts:
            return None
        return PostStatus(remote_id=remote_id, state=PostState.PUBLISHED)

    async def find_post_by_marker(self, access_token: str, marker: str) -> PublishedPost | None:
        self.calls.append("find_post_by_marker")
        return next(
            (PublishedPost(remote_id=rid) for rid, text in self.posts.items() if text == marker), None
        )

    async def fetch_metrics(self, access_token: str, remote_ids: Sequence[str]) -> list[object]:
        return []

    async def verify_webhook(self, headers: object, body: bytes) -> object:
        raise NotImplementedError


def tokens(access: str, refresh: str | None, expires_in_s: float = 3600, at: datetime = NOW) -> TokenSet:
    return TokenSet(
        access_token=SecretStr(access),
        refresh_token=SecretStr(refresh) if refresh else None,
        expires_at=at + timedelta(seconds=expires_in_s),
    )


def auth_failure(message: str = "invalid_grant") -> AuthFailure:
    return AuthFailure("refused", platform="sandbox", platform_message=message)


@dataclass
class World:
    """The service's deps on fakes, and what the test looks at."""

    deps: Deps
    store: Store
    platform: FakePlatform
    clock: StillClock
    units: FakeUnits

    def connect(
        self,
        *,
        expires_in_s: float = 3600,
        refresh_token: str | None = "refresh-1",
        status: Status = Status.CONNECTED,
    ) -> Connection:
        """A connection as the OAuth callback would have stored it (tokens sealed)."""
        connection_id = uuid.uuid4()
        vault = self.deps.vault
        sealed = SealedTokens(
            vault.seal(connection_id, ACCESS, "access-1"),
            vault.seal(connection_id, REFRESH, refresh_token),
            self.clock.now() + timedelta(seconds=expires_in_s),
        )
        FakeConnections(self.store).add(
            connection_id, uuid.uuid4(), uuid.uuid4(), "sandbox", f"acct-{connection_id.hex[:6]}", sealed
        )
        if status is not Status.CONNECTED:
            FakeConnections(self.store)._change(connection_id, status=status)
        return self.store.connections[connection_id]

    def row(self, connection: Connection) -> Connection:
        return self.store.connections[connection.id]


def world(**settings: object) -> World:
    key = base64.b64encode(b"k" * 32).decode()
    values: dict[str, object] = {
        "encryption_keys": json.dumps({"k1": key}),
        "active_key_id": "k1",
        "state_secret": "unit-test-state-secret",
        "refresh_backoff_base_s": 5.0,
        "refresh_backoff_max_s": 600.0,
        "default_retry_after_s": 2.0,
    }
    values.update(settings)
    config = Settings(**values)  # type: ignore[arg-type]
    clock = StillClock(NOW)
    store = Store(clock=clock)
    units = FakeUnits(store)
    platform = FakePlatform()
    deps = Deps(
        settings=config,
        database=Database(config, "connections"),  # never opened: the fakes stand in for it
        units=units,  # type: ignore[arg-type]
        vault=TokenVault(TokenCipher.from_config(json.dumps({"k1": key}), "k1")),
        state_secret=b"unit-test-state-secret",
        platforms=PlatformRegistry({"sandbox": platform}),  # type: ignore[dict-item]
        http=ShardedClient(1, max_connections=4),
        clock=clock,
    )
    return World(deps, store, platform, clock, units)
