"""Errors raised by the platform catalogue.

Webhook verification errors form one family so that the inbound webhook endpoint can answer
every one of them the same way (reject, do not store) while still logging which check failed.
"""

from __future__ import annotations


class UnknownPlatform(LookupError):
    """No platform of that name is in the catalogue."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown platform {name!r}; known platforms: {', '.join(known)}")
        self.name = name


class InvalidWebhookSecret(ValueError):
    """A configured webhook secret is not of the form `whsec_<base64>` (a configuration error)."""


class WebhookVerificationError(Exception):
    """An inbound webhook failed verification; it must be refused and not processed."""


class MalformedWebhook(WebhookVerificationError):
    """A required header is missing or cannot be parsed."""


class StaleTimestamp(WebhookVerificationError):
    """The webhook's timestamp is outside the tolerance window (a replay, or a badly skewed clock)."""


class InvalidSignature(WebhookVerificationError):
    """No signature in the header matches the body under any of the current secrets."""
