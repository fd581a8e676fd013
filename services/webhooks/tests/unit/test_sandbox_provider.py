"""The sandbox provider: verification by the catalogue, meaning by our parser."""

import json
import time
from datetime import UTC, datetime

import pytest

from aligned_common.platforms import MalformedWebhook
from aligned_common.platforms.standard_webhooks import WebhookSecret
from aligned_sandbox.webhooks import sign as sandbox_sign
from aligned_webhooks.adapters.providers import ProviderRegistry, parse_sandbox
from aligned_webhooks.domain.inbound import Rejection
from aligned_webhooks.service_layer.ingest import Rejected, verify

pytestmark = pytest.mark.unit

SECRET = WebhookSecret.generate()


def body(event_type: str, data: dict) -> bytes:
    return json.dumps({"type": event_type, "timestamp": "2030-01-01T00:00:00+00:00", "data": data}).encode()


def sandbox_headers(payload: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Signed by the sandbox platform's own signing code, not ours."""
    sent_at = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(sent_at),
        "webhook-signature": sandbox_sign(secret, "msg_1", sent_at, payload),
    }


def provider():
    return ProviderRegistry.from_secrets({"sandbox": [WebhookSecret.generate(), SECRET]}).get("sandbox")


def test_what_the_sandbox_signs_verifies_under_any_configured_secret():
    payload = body("post.status_changed", {"post_id": "p", "account_id": "a", "status": "live", "url": None})
    [delivery] = verify(provider(), sandbox_headers(payload), payload, 300, datetime.now(UTC))
    assert delivery.provider_event_id == "msg_1"
    assert delivery.parsed.kind == "post_status_changed" and delivery.parsed.post_status == "live"
    assert set(delivery.headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (lambda p: sandbox_headers(p, secret=WebhookSecret.generate()), Rejection.BAD_SIGNATURE),
        (lambda p: sandbox_headers(p, timestamp=int(time.time()) - 400), Rejection.STALE_TIMESTAMP),
        (lambda p: sandbox_headers(p, timestamp=int(time.time()) + 400), Rejection.STALE_TIMESTAMP),
        (lambda p: {"webhook-id": "msg_1"}, Rejection.MALFORMED),
    ],
)
def test_verification_failures_are_typed(headers, reason):
    payload = body("account.deauthorized", {"account_id": "a"})
    with pytest.raises(Rejected) as caught:
        verify(provider(), headers(payload), payload, 300, datetime.now(UTC))
    assert caught.value.reason == reason


def test_parsed_kinds():
    metrics = parse_sandbox(
        body(
            "metrics.pushed",
            {
                "post_id": "p",
                "account_id": "a",
                "metrics": {
                    "observed_at": "2030-01-01T00:00:00Z",
                    "impressions": 10,
                    "likes": 1,
                    "shares": 0,
                    "comments": 2,
                },
            },
        )
    )
    assert (
        metrics.kind == "metrics_pushed" and {m.name: m.value for m in metrics.metrics}["impressions"] == 10
    )
    assert parse_sandbox(body("account.deauthorized", {"account_id": "a"})).kind == "account_deauthorized"
    assert parse_sandbox(body("account.renamed", {"account_id": "a"})).kind == "other"


@pytest.mark.parametrize(
    "payload", [b"not json", b'{"type": "metrics.pushed", "data": {"post_id": "p"}}', b"[]"]
)
def test_malformed_bodies(payload):
    with pytest.raises(MalformedWebhook):
        parse_sandbox(payload)


def test_a_provider_without_secret_or_parser_is_not_served():
    registry = ProviderRegistry.from_secrets({"sandbox": [], "mastodon": [SECRET], "nope": [SECRET]})
    assert registry.names() == []


def test_a_comment_or_review_is_read_as_an_engagement_item_for_the_engagement_service():
    data = {
        "kind": "comment",
        "platform_item_id": "c_1",
        "account_id": "acct",
        "remote_post_id": "post_1",
        "author_id": "u_1",
        "author_name": "Ann",
        "text": "Nice",
        "created_at": "2030-01-01T00:00:00+00:00",
    }
    parsed = parse_sandbox(body("comment.created", data))
    assert (parsed.kind, parsed.account_id, parsed.remote_post_id) == ("engagement", "acct", "post_1")
    assert parsed.item is not None and (parsed.item.platform_item_id, parsed.item.text) == ("c_1", "Nice")
    with pytest.raises(MalformedWebhook):
        parse_sandbox(body("review.created", {"kind": "review", "account_id": "acct"}))
