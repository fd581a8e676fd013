"""The engagement inbox's platform side: poll each connected account for comments, mentions
and reviews (connections.engagement_fetched), and put engagement's replies on the platform
(engagement.reply_requested -> connections.reply_sent / reply_failed). Only connections holds
tokens and calls platforms; engagement deduplicates what either path (a poll, a platform's
webhook through the webhooks service) delivers."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aligned_common.envelope import EventEnvelope
from aligned_common.events.connections import EngagementFetched, ReplyFailed, ReplySent
from aligned_common.events.engagement import PlatformItem, ReplyRequested
from aligned_common.inbox import InboxEntry
from aligned_connections.adapters.platforms import AuthFailure, PlatformError, Retryable
from aligned_connections.adapters.platforms.engagement import EngagementSource, ReplyRequest
from aligned_connections.domain.connection import Connection, publish_refusal
from aligned_connections.service_layer.deps import Deps
from aligned_connections.service_layer.tokens import refresh_connection

log = logging.getLogger(__name__)

Fingerprint = tuple[str, str | None, bool]
T = TypeVar("T")


def _source(deps: Deps, platform: str) -> EngagementSource | None:
    adapter = deps.platforms.get(platform) if platform in deps.platforms.names() else None
    return adapter if isinstance(adapter, EngagementSource) else None


def _fingerprint(item: PlatformItem) -> Fingerprint:
    return item.text, item.edited_at.isoformat() if item.edited_at else None, item.deleted


QUIET_SKIP_MAX = 7  # a quiet account is asked at least every 8th round


class Poller:
    """One process's polling rounds. It remembers what it last sent per connection, so an
    unchanged item is not announced again every round (a restarted or second replica sends
    it once more: engagement deduplicates). An account that had nothing new (or failed) is
    skipped for 1, 3, 7 rounds after 1, 2, 3 quiet polls in a row, so many idle accounts do not
    keep the platform (and its rate limits) busy; anything new brings it back to every round."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._seen: dict[uuid.UUID, dict[str, Fingerprint]] = {}
        self._quiet: dict[uuid.UUID, int] = {}  # quiet polls in a row
        self._skip: dict[uuid.UUID, int] = {}  # rounds left to skip

    async def poll_all(self) -> int:
        platforms = [name for name in self.deps.platforms.names() if _source(self.deps, name) is not None]
        if not platforms:
            return 0
        # role="worker": the round covers every brand's accounts; each poll below is brand-scoped.
        async with self.deps.uow(role="worker") as uow:
            connections = await uow.connections.connected_on(
                platforms, self.deps.settings.engagement_poll_batch
            )
        sent = 0
        for connection in connections:
            if self._skip.get(connection.id, 0) > 0:
                self._skip[connection.id] -= 1
                continue
            found = 0
            try:
                found = await self.poll(connection)
            except Exception:  # one account's failure must not stop the round
                log.exception("engagement poll failed", extra={"ctx_connection_id": str(connection.id)})
            quiet = 0 if found else self._quiet.get(connection.id, 0) + 1
            self._quiet[connection.id] = quiet
            self._skip[connection.id] = min(2**quiet - 1, QUIET_SKIP_MAX)
            sent += found
        return sent

    async def poll(self, connection: Connection) -> int:
        """Fetch the account's items and announce the new or changed ones; how many."""
        source = _source(self.deps, connection.platform)
        if source is None or publish_refusal(connection.status) is not None:
            return 0
        async with self.deps.platform_slot(connection.platform):
            items = await _with_token(self.deps, connection, source.fetch_engagement)
        seen = self._seen.setdefault(connection.id, {})
        fresh = [item for item in items if seen.get(item.platform_item_id) != _fingerprint(item)]
        if fresh:
            async with self.deps.uow(connection.brand_id) as uow:
                await uow.emit(
                    EngagementFetched(connection_id=connection.id, platform=connection.platform, items=fresh),
                    brand_id=connection.brand_id,
                    tenant_id=connection.tenant_id,
                    subject=str(connection.id),
                )
            seen.update((item.platform_item_id, _fingerprint(item)) for item in fresh)
        return len(fresh)


async def _with_token(deps: Deps, connection: Connection, call: Callable[[str], Awaitable[T]]) -> T:
    """The call with the account's token; once more with a refreshed one if the platform refused it."""
    token = deps.vault.access_token(connection) or ""
    try:
        return await call(token)
    except AuthFailure:
        refreshed = await refresh_connection(deps, connection.brand_id, connection.id)
        if refreshed.kind != "refreshed" or refreshed.access_token is None:
            raise
        return await call(refreshed.access_token)


async def run_forever(deps: Deps) -> None:
    poller = Poller(deps)
    while True:
        try:
            await poller.poll_all()
        except Exception:
            log.exception("engagement poll round failed")  # the database may be away; next round
        await asyncio.sleep(deps.settings.engagement_poll_interval_s)


async def handle_reply_requested(
    deps: Deps, entry: InboxEntry, envelope: EventEnvelope, data: ReplyRequested
) -> None:
    """Put the reply on the platform under its idempotency key; a retryable failure raises, so
    the inbox tries again (the same key: the platform answers with the first reply)."""
    async with deps.uow(envelope.brand_id) as uow:
        connection = await uow.connections.get(envelope.brand_id, data.connection_id)
    source = _source(deps, data.platform)
    if connection is None or connection.platform != data.platform or source is None:
        await _failed(deps, entry, envelope, data, "connection_not_found", None)
        return
    refusal = publish_refusal(connection.status)
    if refusal is not None:
        await _failed(deps, entry, envelope, data, refusal, connection.last_error)
        return
    request = ReplyRequest(
        kind=data.kind,
        in_reply_to_id=data.in_reply_to_id,
        remote_post_id=data.remote_post_id,
        text=data.text,
        idempotency_key=data.idempotency_key,
    )
    adapter = source

    try:
        async with deps.platform_slot(connection.platform):
            posted = await _with_token(deps, connection, lambda token: adapter.reply(token, request))
    except Retryable:
        raise
    except PlatformError as failure:
        reason = "auth_failure" if isinstance(failure, AuthFailure) else "rejected"
        await _failed(deps, entry, envelope, data, reason, failure.platform_message or str(failure))
        return
    sent = ReplySent(
        reply_id=data.reply_id,
        connection_id=data.connection_id,
        idempotency_key=data.idempotency_key,
        remote_id=posted.remote_id,
        url=posted.url,
    )
    await _answer(deps, entry, envelope, sent)


async def _failed(
    deps: Deps,
    entry: InboxEntry,
    envelope: EventEnvelope,
    data: ReplyRequested,
    reason: str,
    message: str | None,
) -> None:
    failed = ReplyFailed(
        reply_id=data.reply_id,
        connection_id=data.connection_id,
        idempotency_key=data.idempotency_key,
        reason=reason,
        platform_message=message,
    )
    await _answer(deps, entry, envelope, failed)


async def _answer(
    deps: Deps, entry: InboxEntry, envelope: EventEnvelope, outcome: ReplySent | ReplyFailed
) -> None:
    """The outcome commits with the inbox's record of the command (transaction=False route)."""
    async with deps.finish(entry) as uow:
        await uow.emit(
            outcome, brand_id=envelope.brand_id, tenant_id=envelope.tenant_id, subject=envelope.subject
        )
