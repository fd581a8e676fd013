"""Meta's Webhooks (Facebook Pages, Instagram, Threads): verify a delivery, answer the subscription.

Reference: https://developers.facebook.com/docs/graph-api/webhooks/getting-started

- A delivery is a POST whose `X-Hub-Signature-256` header is `sha256=<hex HMAC-SHA256 of the raw
  body, keyed with the app secret>`. Several secrets may be configured while one is rotated.
- Subscribing: Meta sends GET `?hub.mode=subscribe&hub.verify_token=<ours>&hub.challenge=<n>`;
  the answer is the challenge, as plain text, when the verify token is the one we configured.

Meta signs no delivery id and no time. A redelivery (Meta retries a delivery that was not
answered 200 for up to 36 hours) is the same body, so the id deduplicating it is the body's
SHA-256; there is no freshness window to check, and a replayed body is a duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence

from aligned_common.platforms.errors import InvalidSignature, MalformedWebhook
from aligned_common.platforms.standard_webhooks import VerifiedWebhook

HEADER_SIGNATURE = "x-hub-signature-256"
PREFIX = "sha256="
MAX_CHALLENGE = 128


def sign(app_secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value Meta sends with `body`."""
    return PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify(
    headers: Mapping[str, str], body: bytes, app_secrets: Sequence[str], *, now: float | None = None
) -> VerifiedWebhook:
    """Check a delivery's signature on the raw body. Raises MalformedWebhook or InvalidSignature."""
    if not app_secrets:
        raise InvalidSignature("no app secret is configured")
    lowered = {name.lower(): value for name, value in headers.items()}
    offered = lowered.get(HEADER_SIGNATURE, "").strip()
    if not offered:
        raise MalformedWebhook(f"missing header {HEADER_SIGNATURE}")
    if not offered.startswith(PREFIX):
        raise MalformedWebhook(f"{HEADER_SIGNATURE} must be sha256=<hex>")
    for secret in app_secrets:
        # compare_digest takes the same time wherever the first difference is.
        if hmac.compare_digest(sign(secret, body), offered.lower()):
            return VerifiedWebhook(
                webhook_id="sha256:" + hashlib.sha256(body).hexdigest(),
                timestamp=int(time.time() if now is None else now),
            )
    raise InvalidSignature("the signature does not match the body under the configured app secrets")


def answer_challenge(params: Mapping[str, str], verify_tokens: Sequence[str]) -> str:
    """The hub.challenge to echo, when the request is a subscription with our verify token.
    Raises MalformedWebhook (not a subscription request) or InvalidSignature (a wrong token)."""
    mode, token, challenge = (params.get(f"hub.{name}", "") for name in ("mode", "verify_token", "challenge"))
    if mode != "subscribe" or not challenge:
        raise MalformedWebhook("expected hub.mode=subscribe with a hub.challenge")
    # Meta's challenge is a number; echoing anything else would reflect a caller's text.
    if len(challenge) > MAX_CHALLENGE or not (challenge.isascii() and challenge.isalnum()):
        raise MalformedWebhook(f"hub.challenge must be at most {MAX_CHALLENGE} letters or digits")
    if not any(
        hmac.compare_digest(token.encode(), expected.encode()) for expected in verify_tokens if expected
    ):
        raise InvalidSignature("hub.verify_token is not the one configured")
    return challenge
