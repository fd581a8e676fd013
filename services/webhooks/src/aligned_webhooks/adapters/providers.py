"""The providers whose webhooks we accept: name -> how to verify, and how to read the body.

Verification is the platform catalogue's (aligned_common.platforms); what a provider's body
means is written here, one parser per provider, producing the provider-independent form.
A provider with no configured secret is not registered: we cannot verify it, so we refuse it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ValidationError

from aligned_common.events.connections import MetricPoint
from aligned_common.events.engagement import PlatformItem
from aligned_common.platforms import MalformedWebhook, standard_webhooks
from aligned_common.platforms.catalogue import WebhookScheme, get_platform
from aligned_common.platforms.errors import UnknownPlatform
from aligned_common.platforms.standard_webhooks import VerifiedWebhook
from aligned_webhooks.domain.inbound import ParsedWebhook

Parser = Callable[[bytes], ParsedWebhook]


@dataclass(frozen=True)
class Provider:
    name: str
    secrets: tuple[str, ...]
    parse: Parser

    def verify(
        self, headers: Mapping[str, str], body: bytes, tolerance_s: float, now: float | None = None
    ) -> VerifiedWebhook:
        """Raises the catalogue's MalformedWebhook, StaleTimestamp or InvalidSignature."""
        return standard_webhooks.verify(headers, body, list(self.secrets), tolerance_s=tolerance_s, now=now)


# --- sandbox -----------------------------------------------------------------------------


class _SandboxPostStatus(BaseModel):
    post_id: str
    account_id: str
    status: str
    url: str | None = None


class _SandboxDeauthorized(BaseModel):
    account_id: str


class _SandboxMetrics(BaseModel):
    observed_at: AwareDatetime
    impressions: int = 0
    likes: int = 0
    shares: int = 0
    comments: int = 0


class _SandboxMetricsPushed(BaseModel):
    post_id: str
    account_id: str
    metrics: _SandboxMetrics


class _SandboxEnvelope(BaseModel):
    type: str
    timestamp: AwareDatetime | None = None
    data: dict[str, Any]


def parse_sandbox(body: bytes) -> ParsedWebhook:
    """The sandbox sends {"type": "post.status_changed" | "account.deauthorized" | "metrics.pushed",
    "timestamp", "data"}; an unknown type is kept as kind "other" (the platform added one)."""
    try:
        envelope = _SandboxEnvelope.model_validate_json(body)
        return _SANDBOX_KINDS.get(envelope.type, _other)(envelope)
    except ValidationError as error:
        raise MalformedWebhook(
            f"signed, but not a sandbox event: {error.error_count()} problem(s)"
        ) from error


def _post_status(envelope: _SandboxEnvelope) -> ParsedWebhook:
    data = _SandboxPostStatus.model_validate(envelope.data)
    return ParsedWebhook(
        kind="post_status_changed",
        account_id=data.account_id,
        remote_post_id=data.post_id,
        post_status=data.status,
        post_url=data.url,
        occurred_at=envelope.timestamp,
    )


def _deauthorized(envelope: _SandboxEnvelope) -> ParsedWebhook:
    data = _SandboxDeauthorized.model_validate(envelope.data)
    return ParsedWebhook(
        kind="account_deauthorized", account_id=data.account_id, occurred_at=envelope.timestamp
    )


def _metrics(envelope: _SandboxEnvelope) -> ParsedWebhook:
    data = _SandboxMetricsPushed.model_validate(envelope.data)
    values = data.metrics.model_dump(exclude={"observed_at"})
    points = [
        MetricPoint(remote_id=data.post_id, name=name, value=value, observed_at=data.metrics.observed_at)
        for name, value in values.items()
    ]
    return ParsedWebhook(
        kind="metrics_pushed",
        account_id=data.account_id,
        remote_post_id=data.post_id,
        metrics=points,
        occurred_at=envelope.timestamp,
    )


def _engagement(envelope: _SandboxEnvelope) -> ParsedWebhook:
    """comment.* / review.*: the sandbox sends the item in the shape engagement reads (a real
    platform's parser would translate its own)."""
    item = PlatformItem.model_validate(envelope.data)
    return ParsedWebhook(
        kind="engagement",
        account_id=item.account_id,
        remote_post_id=item.remote_post_id,
        occurred_at=envelope.timestamp,
        item=item,
    )


def _other(envelope: _SandboxEnvelope) -> ParsedWebhook:
    account = envelope.data.get("account_id")
    return ParsedWebhook(
        kind="other", account_id=str(account) if account else None, occurred_at=envelope.timestamp
    )


_SANDBOX_KINDS: dict[str, Callable[[_SandboxEnvelope], ParsedWebhook]] = {
    "post.status_changed": _post_status,
    "account.deauthorized": _deauthorized,
    "metrics.pushed": _metrics,
    "comment.created": _engagement,
    "comment.updated": _engagement,
    "comment.deleted": _engagement,
    "review.created": _engagement,
}

PARSERS: dict[str, Parser] = {"sandbox": parse_sandbox}


# --- registry ----------------------------------------------------------------------------


class ProviderRegistry:
    def __init__(self, providers: Sequence[Provider]) -> None:
        self._providers = {p.name: p for p in providers}

    def get(self, name: str) -> Provider | None:
        return self._providers.get(name)

    def names(self) -> list[str]:
        return sorted(self._providers)

    @classmethod
    def from_secrets(cls, secrets: Mapping[str, Sequence[str]]) -> ProviderRegistry:
        """Providers with a parser, a Standard Webhooks scheme in the catalogue and a secret."""
        providers = []
        for name, provider_secrets in secrets.items():
            if not provider_secrets or name not in PARSERS:
                continue
            try:
                spec = get_platform(name)
            except UnknownPlatform:
                continue
            if spec.webhook_scheme != WebhookScheme.STANDARD_WEBHOOKS:
                continue
            for secret in provider_secrets:  # fail at startup, not at the first webhook
                standard_webhooks.WebhookSecret.parse(secret)
            providers.append(Provider(name, tuple(provider_secrets), PARSERS[name]))
        return cls(providers)


def signed_at(verified: VerifiedWebhook) -> datetime:
    return datetime.fromtimestamp(verified.timestamp, UTC)
