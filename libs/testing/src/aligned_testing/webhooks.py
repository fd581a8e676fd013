"""Helpers for tests that drive the webhooks service: signed inbound webhooks as a platform sends
them, a local receiver for outbound deliveries, and polling with a deadline."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
from fastapi import Request, Response

from aligned_common.db import UnitOfWork
from aligned_common.platforms.meta_webhooks import sign as meta_sign
from aligned_common.platforms.standard_webhooks import WebhookSecret
from aligned_common.platforms.standard_webhooks import signed_headers as webhook_headers

SANDBOX_SECRET = WebhookSecret.generate()
# A Meta app's secret and Webhooks verify token, for tests only (no real app has them).
META_APP_SECRET = "test-meta-app-secret-" + "0" * 12
META_VERIFY_TOKEN = "test-meta-verify-token"


async def query(pool: asyncpg.Pool, schema: str, sql: str, *args) -> list[asyncpg.Record]:
    """Tests look at the service's tables across brands, as the worker role does."""
    async with UnitOfWork(pool, schema, role="worker") as uow:
        return await uow.conn.fetch(sql, *args)


def sandbox_webhook(
    event_type: str,
    data: dict,
    *,
    secret: str = SANDBOX_SECRET,
    webhook_id: str | None = None,
    timestamp: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A body and headers shaped and signed like the sandbox platform's webhooks."""
    body = json.dumps({"type": event_type, "timestamp": "2030-01-01T00:00:00+00:00", "data": data}).encode()
    headers = webhook_headers(secret, webhook_id or f"msg_{uuid.uuid4().hex}", body, timestamp)
    return body, {**headers, "content-type": "application/json"}


def meta_webhook(
    *entries: dict, object_: str = "page", secret: str = META_APP_SECRET
) -> tuple[bytes, dict[str, str]]:
    """A body and headers shaped and signed like Meta's Webhooks (X-Hub-Signature-256)."""
    body = json.dumps({"object": object_, "entry": list(entries)}).encode()
    return body, {"X-Hub-Signature-256": meta_sign(secret, body), "content-type": "application/json"}


def page_post_removed(page_id: str, post_id: str, time: int = 1772366400) -> dict:
    """A Page's feed change as Meta sends it when a post is removed."""
    return {
        "id": page_id,
        "time": time,
        "changes": [{"field": "feed", "value": {"item": "status", "post_id": post_id, "verb": "remove"}}],
    }


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


Behaviour = Callable[[Request, int], Awaitable[Response]]


async def answer_ok(request: Request, n: int) -> Response:
    return Response(status_code=204)


@dataclass
class Receiver:
    """What a local receiver server got, and how each of its paths answers."""

    base_url: str
    requests: list[ReceivedRequest] = field(default_factory=list)
    behaviours: dict[str, Behaviour] = field(default_factory=dict)

    def path(self, behaviour: Behaviour = answer_ok) -> str:
        """A fresh path that answers with `behaviour(request, nth_request)`; returns its URL."""
        path = f"/hook/{uuid.uuid4().hex}"
        self.behaviours[path] = behaviour
        return self.base_url + path

    def at(self, url: str) -> list[ReceivedRequest]:
        path = url.removeprefix(self.base_url)
        return [r for r in self.requests if r.path == path]

    async def handle(self, path: str, request: Request) -> Response:
        self.requests.append(ReceivedRequest(path, dict(request.headers), await request.body()))
        return await self.behaviours.get(path, answer_ok)(request, len(self.at(self.base_url + path)))
