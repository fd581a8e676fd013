"""Standard Webhooks (https://www.standardwebhooks.com): sign and verify.

The sender signs "{webhook-id}.{webhook-timestamp}.{body}" with HMAC-SHA256 under a shared
secret written `whsec_<base64 key>`, and sends "v1,<base64 signature>" in webhook-signature.
The header may hold several signatures separated by spaces, which is how a secret is rotated
without downtime: the sender signs with the old and the new secret, the receiver accepts either.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from secrets import token_bytes

from aligned_common.platforms.errors import (
    InvalidSignature,
    InvalidWebhookSecret,
    MalformedWebhook,
    StaleTimestamp,
)

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_S = 300
HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"


@dataclass(frozen=True)
class WebhookSecret:
    key: bytes

    @classmethod
    def parse(cls, text: str) -> WebhookSecret:
        """Read `whsec_<base64>`; the prefix may be left out, as the reference libraries allow."""
        encoded = text.removeprefix(SECRET_PREFIX)
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as error:
            raise InvalidWebhookSecret("a webhook secret must be whsec_ followed by base64") from error
        if not key:
            raise InvalidWebhookSecret("a webhook secret may not be empty")
        return cls(key)

    @classmethod
    def generate(cls, size: int = 32) -> str:
        return SECRET_PREFIX + base64.b64encode(token_bytes(size)).decode("ascii")

    def __repr__(self) -> str:  # never print the key into a log
        return "WebhookSecret(key=<hidden>)"


SecretLike = WebhookSecret | str


@dataclass(frozen=True)
class VerifiedWebhook:
    """What verification established: this id and time were signed by a holder of the secret."""

    webhook_id: str
    timestamp: int


def sign(secret: SecretLike, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature value ("v1,<base64>") for one secret."""
    digest = hmac.new(_key(secret), _signed_content(webhook_id, timestamp, body), hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signed_headers(
    secrets: SecretLike | Sequence[SecretLike], webhook_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The three headers of an outbound delivery, signed with every given secret."""
    sent_at = int(time.time()) if timestamp is None else timestamp
    signatures = " ".join(sign(secret, webhook_id, sent_at, body) for secret in _as_list(secrets))
    return {HEADER_ID: webhook_id, HEADER_TIMESTAMP: str(sent_at), HEADER_SIGNATURE: signatures}


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets: SecretLike | Sequence[SecretLike],
    *,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> VerifiedWebhook:
    """Check an inbound webhook; `body` must be the raw bytes as received, before any parsing.

    Raises MalformedWebhook, StaleTimestamp or InvalidSignature.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    webhook_id = _required(lowered, HEADER_ID)
    timestamp = _parse_timestamp(_required(lowered, HEADER_TIMESTAMP))
    offered = list(_offered_signatures(_required(lowered, HEADER_SIGNATURE)))
    _check_freshness(timestamp, time.time() if now is None else now, tolerance_s)

    signed_content = _signed_content(webhook_id, timestamp, body)
    for secret in _as_list(secrets):
        expected = hmac.new(_key(secret), signed_content, hashlib.sha256).digest()
        # compare_digest takes the same time wherever the first differing byte is, so an attacker
        # cannot learn the signature byte by byte from response times.
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return VerifiedWebhook(webhook_id=webhook_id, timestamp=timestamp)
    raise InvalidSignature("no signature matches the body under the configured secrets")


def _signed_content(webhook_id: str, timestamp: int, body: bytes) -> bytes:
    return f"{webhook_id}.{timestamp}.".encode() + body


def _key(secret: SecretLike) -> bytes:
    return (secret if isinstance(secret, WebhookSecret) else WebhookSecret.parse(secret)).key


def _as_list(secrets: SecretLike | Sequence[SecretLike]) -> list[SecretLike]:
    listed = [secrets] if isinstance(secrets, (str, WebhookSecret)) else list(secrets)
    if not listed:
        raise InvalidWebhookSecret("at least one webhook secret is needed")
    return listed


def _required(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name, "").strip()
    if not value:
        raise MalformedWebhook(f"missing header {name}")
    return value


def _parse_timestamp(value: str) -> int:
    if not value.isdigit():
        raise MalformedWebhook(f"{HEADER_TIMESTAMP} must be whole seconds since the epoch, got {value!r}")
    return int(value)


def _check_freshness(timestamp: int, now: float, tolerance_s: float) -> None:
    # Both directions: an old timestamp is a replay, a future one would stay "fresh" for too long.
    if abs(now - timestamp) > tolerance_s:
        raise StaleTimestamp(f"timestamp {timestamp} is more than {tolerance_s:g} s from now ({int(now)})")


def _offered_signatures(header: str) -> Iterator[bytes]:
    """The decoded v1 signatures in the header; other versions (e.g. asymmetric v1a) are skipped."""
    well_formed = 0
    for entry in header.split():
        version, _, encoded = entry.partition(",")
        try:
            decoded = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if not decoded:
            continue
        well_formed += 1
        if version == SIGNATURE_VERSION:
            yield decoded
    if not well_formed:
        raise MalformedWebhook(f"{HEADER_SIGNATURE} holds no signature of the form v1,<base64>")
