"""The providers whose webhooks we accept: name -> how to verify, and how to read the body.

Verification is the platform catalogue's (aligned_common.platforms): Standard Webhooks for the
sandbox, Meta's X-Hub-Signature-256 for Facebook Pages, Instagram and Threads. What a provider's
body means is written here, one parser per provider, producing the provider-independent form;
one delivery may carry several events (Meta batches entries and changes).
A provider with no configured secret is not registered: we cannot verify it, so we refuse it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ValidationError

from aligned_common.events.connections import MetricPoint
from aligned_common.events.engagement import PlatformItem
from aligned_common.platforms import MalformedWebhook, meta_webhooks, standard_webhooks
from aligned_common.platforms.catalogue import WebhookScheme, get_platform
from aligned_common.platforms.errors import UnknownPlatform
from aligned_common.platforms.standard_webhooks import VerifiedWebhook
from aligned_webhooks.domain.inbound import ParsedWebhook

Parser = Callable[[bytes], list[ParsedWebhook]]


@dataclass(frozen=True)
class Provider:
    name: str
    secrets: tuple[str, ...]
    parse: Parser  # the events of a verified body, at least one
    scheme: WebhookScheme = WebhookScheme.STANDARD_WEBHOOKS
    verify_tokens: tuple[str, ...] = ()  # Meta's hub.verify_token, for the subscription GET

    def verify(
        self, headers: Mapping[str, str], body: bytes, tolerance_s: float, now: float | None = None
    ) -> VerifiedWebhook:
        """Raises the catalogue's MalformedWebhook, StaleTimestamp or InvalidSignature."""
        if self.scheme is WebhookScheme.META_HUB_SIGNATURE:
            return meta_webhooks.verify(headers, body, list(self.secrets), now=now)
        return standard_webhooks.verify(headers, body, list(self.secrets), tolerance_s=tolerance_s, now=now)

    def answer_challenge(self, params: Mapping[str, str]) -> str:
        """The subscription check some platforms make before sending (Meta's hub.challenge).
        Raises MalformedWebhook where the scheme has none, InvalidSignature for a wrong token."""
        if self.scheme is not WebhookScheme.META_HUB_SIGNATURE:
            raise MalformedWebhook(f"{self.name} makes no subscription check")
        return meta_webhooks.answer_challenge(params, list(self.verify_tokens))


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

# --- Meta: Facebook Pages, Instagram, Threads ---------------------------------------------


class _MetaChange(BaseModel):
    field: str
    value: dict[str, Any] = {}


class _MetaEntry(BaseModel):
    id: str
    time: int | None = None
    changes: list[_MetaChange] = []


class _MetaBody(BaseModel):
    object: str
    entry: list[_MetaEntry]


# feed items that are a post of the page's own (not a comment or a reaction on one)
_META_POST_ITEMS = frozenset({"post", "status", "photo", "video", "share"})


def parse_meta(body: bytes) -> list[ParsedWebhook]:
    """{"object": "page" | "instagram" | ..., "entry": [{"id": <page or account id>, "time",
    "changes": [{"field", "value"}]}]}: one event per change. A page's post removed (field feed,
    verb remove) is post_status_changed "deleted"; every other change (comments, mentions, ...)
    is kept as kind "other" for its account. A signed body of another shape (a product that
    posts its own format) is one "other" event for no account: stored, never refused, so Meta
    does not retry it for a day and a half."""
    try:
        document = _MetaBody.model_validate_json(body)
    except ValidationError:
        try:
            json.loads(body)
        except ValueError as error:
            raise MalformedWebhook("signed, but not JSON") from error
        return [ParsedWebhook(kind="other")]
    events: list[ParsedWebhook] = []
    for entry in document.entry:
        occurred_at = datetime.fromtimestamp(entry.time, UTC) if entry.time else None
        for change in entry.changes or [_MetaChange(field="")]:
            events.append(_meta_change(entry.id, change, occurred_at))
    return events or [ParsedWebhook(kind="other")]


def _meta_change(account_id: str, change: _MetaChange, occurred_at: datetime | None) -> ParsedWebhook:
    value = change.value
    post_id = value.get("post_id")
    if (
        change.field == "feed"
        and value.get("item") in _META_POST_ITEMS
        and value.get("verb") == "remove"
        and isinstance(post_id, str)
    ):
        return ParsedWebhook(
            kind="post_status_changed",
            account_id=account_id,
            remote_post_id=post_id,
            post_status="deleted",
            occurred_at=occurred_at,
        )
    return ParsedWebhook(kind="other", account_id=account_id, occurred_at=occurred_at)


def _one(parse: Callable[[bytes], ParsedWebhook]) -> Parser:
    return lambda body: [parse(body)]


PARSERS: dict[str, Parser] = {
    "sandbox": _one(parse_sandbox),
    "facebook": parse_meta,
    "instagram": parse_meta,
    "threads": parse_meta,
}


# --- registry ----------------------------------------------------------------------------


class ProviderRegistry:
    def __init__(self, providers: Sequence[Provider]) -> None:
        self._providers = {p.name: p for p in providers}

    def get(self, name: str) -> Provider | None:
        return self._providers.get(name)

    def names(self) -> list[str]:
        return sorted(self._providers)

    @classmethod
    def from_secrets(
        cls, secrets: Mapping[str, Sequence[str]], verify_tokens: Mapping[str, str] | None = None
    ) -> ProviderRegistry:
        """Providers with a parser, a scheme we verify in the catalogue, and a secret (Meta's:
        the app secret; its verify token answers the subscription check)."""
        providers = []
        for name, provider_secrets in secrets.items():
            if not provider_secrets or name not in PARSERS:
                continue
            try:
                spec = get_platform(name)
            except UnknownPlatform:
                continue
            if spec.webhook_scheme == WebhookScheme.STANDARD_WEBHOOKS:
                for secret in provider_secrets:  # fail at startup, not at the first webhook
                    standard_webhooks.WebhookSecret.parse(secret)
            elif spec.webhook_scheme != WebhookScheme.META_HUB_SIGNATURE:
                continue
            token = (verify_tokens or {}).get(name)
            providers.append(
                Provider(
                    name,
                    tuple(provider_secrets),
                    PARSERS[name],
                    spec.webhook_scheme,
                    (token,) if token else (),
                )
            )
        return cls(providers)


def signed_at(verified: VerifiedWebhook) -> datetime:
    return datetime.fromtimestamp(verified.timestamp, UTC)
