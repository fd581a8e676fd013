"""RSS/Atom subscriptions: subscribe, list, read, edit (pause, resume), unsubscribe, and the
entries a subscription's polls saw (issue 24, ADR 0028). The polling is feed_polling.py.

Everything a subscription will do is checked when it is made, each refusal a 422 naming its
field: the URL by the same SSRF guard outbound webhooks use (a private or loopback address, a
scheme other than https, a host that does not resolve), the accounts against our copy of the
brand's connections, the template's placeholders, the interval against the service's minimum.
Another brand's subscription id reads as one that does not exist (404).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from aligned_common.identity import Identity
from aligned_common.known_connections import problem_with
from aligned_common.ssrf import RefusedTarget, check_target
from aligned_publishing.adapters.feed_fetcher import PURPOSE
from aligned_publishing.domain.commands import EditSubscription, Subscribe
from aligned_publishing.domain.feeds import template_problem
from aligned_publishing.service_layer.deps import Deps
from aligned_publishing.service_layer.errors import invalid, invalid_many, not_found
from aligned_publishing.service_layer.ports import UnitOfWork

ENTRIES_SHOWN = 200


async def _check_url(deps: Deps, url: str) -> None:
    try:
        await check_target(url, deps.feed_policy(), purpose=PURPOSE)
    except RefusedTarget as refused:
        raise invalid("url", str(refused), code="refused_target") from None


def _check_template(template: str) -> None:
    problem = template_problem(template)
    if problem:
        raise invalid("template", problem)


def _check_interval(deps: Deps, interval_s: int) -> None:
    least = deps.settings.feed_min_interval_s
    if interval_s < least:
        raise invalid("interval_s", f"a feed is polled at most every {least} s")


async def _check_connections(uow: UnitOfWork, brand_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> None:
    """Another brand's connection, one that does not exist and one disconnected read the same."""
    known = await uow.connections.known(brand_id, list(ids))
    errors = []
    for index, connection_id in enumerate(ids):
        problem = problem_with(known.get(connection_id), connection_id)
        if problem is not None:
            errors.append({"field": f"connection_ids[{index}]", "message": problem[1], "code": problem[0]})
    if errors:
        raise invalid_many(errors)


async def subscribe(deps: Deps, identity: Identity, body: Subscribe) -> dict[str, Any]:
    interval = body.interval_s or deps.settings.feed_default_interval_s
    _check_template(body.template)
    _check_interval(deps, interval)
    await _check_url(deps, body.url)
    now = deps.clock.now()
    feed = {
        "feed_id": uuid.uuid4(),
        "brand_id": identity.brand_id,
        "tenant_id": identity.tenant_id,
        "created_by": identity.user_id,
        "url": body.url,
        "connection_ids": list(dict.fromkeys(body.connection_ids)),
        "template": body.template,
        "mode": body.mode.value,
        "schedule_after_s": body.schedule_after_s,
        "interval_s": interval,
        "paused": False,
        "post_existing": body.post_existing,
        "etag": None,
        "last_modified": None,
        "consecutive_failures": 0,
        "last_error": None,
        "last_error_at": None,
        "last_polled_at": None,
        "last_success_at": None,
        "next_poll_at": now,  # the first poll at once
        "created_at": now,
        "updated_at": now,
    }
    async with deps.uow(identity.brand_id) as uow:
        await _check_connections(uow, identity.brand_id, body.connection_ids)
        await uow.feeds.add(feed)
    return feed


async def list_subscriptions(deps: Deps, identity: Identity) -> list[dict[str, Any]]:
    async with deps.uow(identity.brand_id) as uow:
        return await uow.feeds.of_brand(identity.brand_id)


async def _existing(uow: UnitOfWork, identity: Identity, feed_id: uuid.UUID, **kw: Any) -> dict[str, Any]:
    feed = await uow.feeds.get(identity.brand_id, feed_id, **kw)
    if feed is None:
        raise not_found("Feed subscription", feed_id)
    return feed


async def get_subscription(deps: Deps, identity: Identity, feed_id: uuid.UUID) -> dict[str, Any]:
    async with deps.uow(identity.brand_id) as uow:
        return await _existing(uow, identity, feed_id)


async def edit_subscription(
    deps: Deps, identity: Identity, feed_id: uuid.UUID, body: EditSubscription
) -> dict[str, Any]:
    """A new URL starts afresh (no validators, no failures, polled now); resuming polls now."""
    changes: dict[str, Any] = body.model_dump(exclude_none=True, exclude={"url", "mode"})
    if body.mode is not None:
        changes["mode"] = body.mode.value
    if body.template is not None:
        _check_template(body.template)
    if body.interval_s is not None:
        _check_interval(deps, body.interval_s)
    now = deps.clock.now()
    if body.url is not None:
        await _check_url(deps, body.url)
    async with deps.uow(identity.brand_id) as uow:
        feed = await _existing(uow, identity, feed_id, for_update=True)
        if body.connection_ids is not None:
            await _check_connections(uow, identity.brand_id, body.connection_ids)
            changes["connection_ids"] = list(dict.fromkeys(body.connection_ids))
        if body.url is not None and body.url != feed["url"]:
            changes |= {
                "url": body.url,
                "etag": None,
                "last_modified": None,
                "consecutive_failures": 0,
                "last_error": None,
                "last_error_at": None,
                "next_poll_at": now,
            }
        if body.paused is False and feed["paused"]:
            changes["next_poll_at"] = now
        changes["updated_at"] = now
        await uow.feeds.update(feed_id, changes)
        return feed | changes


async def unsubscribe(deps: Deps, identity: Identity, feed_id: uuid.UUID) -> None:
    """The subscription and its entries' records go; the posts it made stay (they are jobs)."""
    async with deps.uow(identity.brand_id) as uow:
        if not await uow.feeds.delete(identity.brand_id, feed_id):
            raise not_found("Feed subscription", feed_id)


async def entries(deps: Deps, identity: Identity, feed_id: uuid.UUID) -> list[dict[str, Any]]:
    async with deps.uow(identity.brand_id) as uow:
        await _existing(uow, identity, feed_id)
        return await uow.feeds.entries(identity.brand_id, feed_id, ENTRIES_SHOWN)
