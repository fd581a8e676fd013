"""Outbound webhooks, signed as Standard Webhooks (https://www.standardwebhooks.com).

Signing is written out here rather than imported from aligned_common on purpose: if both sides
shared one implementation, a mistake in it would sign and verify "correctly" and no test would
notice. The unit tests check this one against the published reference vector.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

import httpx
from pydantic import BaseModel

from aligned_sandbox.clock import Clock, to_datetime
from aligned_sandbox.config import SandboxConfig
from aligned_sandbox.errors import SandboxError

WebhookType = Literal["post.status_changed", "account.deauthorized", "metrics.pushed"]
# Sent by the comments module (aligned_sandbox.comments), not asked for by /_control/webhooks/send.
EngagementWebhookType = Literal["comment.created", "comment.updated", "comment.deleted", "review.created"]


class Delivery(BaseModel):
    webhook_id: str
    type: WebhookType | EngagementWebhookType
    url: str
    delivered: bool
    status_code: int | None = None
    error: str | None = None
    body: dict[str, Any]


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed_content = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed_content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


class WebhookDispatcher:
    def __init__(self, config: Callable[[], SandboxConfig], clock: Clock, client: httpx.AsyncClient) -> None:
        self._config = config
        self._clock = clock
        self._client = client
        self._deliveries: list[Delivery] = []
        self._lock = threading.Lock()

    def ensure_configured(self) -> tuple[str, str]:
        config = self._config()
        if not config.webhook_url or not config.webhook_secret:
            raise SandboxError(
                409,
                "webhooks_not_configured",
                "set webhook_url and webhook_secret with POST /_control/config first",
            )
        return config.webhook_url, config.webhook_secret

    async def send(self, event_type: WebhookType | EngagementWebhookType, data: dict[str, Any]) -> Delivery:
        url, secret = self.ensure_configured()
        webhook_id = "msg_" + secrets.token_hex(12)
        payload = {"type": event_type, "timestamp": to_datetime(self._clock.now()).isoformat(), "data": data}
        body = json.dumps(payload, separators=(",", ":")).encode()
        # The header carries real time, not the sandbox clock: the receiver checks it against its own.
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, webhook_id, timestamp, body),
        }
        delivered, status_code, error = await self._post(url, body, headers)
        delivery = Delivery(
            webhook_id=webhook_id,
            type=event_type,
            url=url,
            delivered=delivered,
            status_code=status_code,
            error=error,
            body=payload,
        )
        with self._lock:
            self._deliveries.append(delivery)
        return delivery

    async def _post(
        self, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[bool, int | None, str | None]:
        """Whether the target took it, its status, and what went wrong if it could not be reached."""
        try:
            response = await self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            return False, None, f"{type(error).__name__}: {error}"
        return response.is_success, response.status_code, None

    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)
