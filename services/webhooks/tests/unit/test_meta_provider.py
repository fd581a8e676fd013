"""Meta's webhooks (Facebook Pages, Instagram, Threads): X-Hub-Signature-256 on the raw body,
the hub.challenge subscription, one event per change, and ids that make a redelivery a duplicate."""

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from aligned_common.platforms import InvalidSignature, MalformedWebhook
from aligned_webhooks.adapters.providers import ProviderRegistry, parse_meta
from aligned_webhooks.domain.inbound import Rejection
from aligned_webhooks.service_layer.ingest import Rejected, verify

pytestmark = pytest.mark.unit

APP_SECRET = "0123456789abcdef0123456789abcdef"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def page_change(page_id: str, value: dict, field: str = "feed") -> dict:
    return {"id": page_id, "time": 1772366400, "changes": [{"field": field, "value": value}]}


def body(*entries: dict, object_: str = "page") -> bytes:
    return json.dumps({"object": object_, "entry": list(entries)}).encode()


def signed(payload: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    """Computed here from Meta's description (HMAC-SHA256 of the raw body, hex), not by our code."""
    return {"X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()}


def facebook(verify_token: str | None = "our-verify-token"):
    tokens = {"facebook": verify_token} if verify_token else {}
    provider = ProviderRegistry.from_secrets({"facebook": ["old-secret", APP_SECRET]}, tokens).get("facebook")
    assert provider is not None
    return provider


REMOVED = {"item": "status", "post_id": "101_555", "verb": "remove", "from": {"id": "101", "name": "Bakery"}}
COMMENT = {"item": "comment", "post_id": "101_555", "comment_id": "555_9", "verb": "add", "message": "yum"}


def test_a_signed_delivery_verifies_under_any_configured_app_secret_and_is_parsed():
    payload = body(page_change("101", REMOVED))
    [delivery] = verify(facebook(), signed(payload), payload, 300, NOW)
    assert delivery.provider_event_id == "sha256:" + hashlib.sha256(payload).hexdigest()
    assert delivery.parsed.kind == "post_status_changed"
    assert (delivery.parsed.account_id, delivery.parsed.remote_post_id, delivery.parsed.post_status) == (
        "101",
        "101_555",
        "deleted",
    )
    assert delivery.parsed.occurred_at == datetime.fromtimestamp(1772366400, UTC)
    assert "x-hub-signature-256" in delivery.headers


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (lambda p: signed(p, secret="someone-elses-secret"), Rejection.BAD_SIGNATURE),
        (lambda p: signed(p + b" "), Rejection.BAD_SIGNATURE),  # the body is what is signed
        (lambda p: {"X-Hub-Signature": "sha1=abc"}, Rejection.MALFORMED),
        (lambda p: {"X-Hub-Signature-256": "md5=abc"}, Rejection.MALFORMED),
    ],
)
def test_verification_failures_are_typed(headers, reason):
    payload = body(page_change("101", REMOVED))
    with pytest.raises(Rejected) as caught:
        verify(facebook(), headers(payload), payload, 300, NOW)
    assert caught.value.reason == reason


def test_a_batch_is_an_event_per_change_each_with_its_own_stable_id():
    payload = body(page_change("101", REMOVED), page_change("102", COMMENT))
    first = verify(facebook(), signed(payload), payload, 300, NOW)
    again = verify(facebook(), signed(payload), payload, 300, NOW)  # Meta's redelivery
    assert [(d.parsed.kind, d.parsed.account_id) for d in first] == [
        ("post_status_changed", "101"),
        ("other", "102"),
    ]
    assert [d.provider_event_id for d in first] == [d.provider_event_id for d in again]
    assert len({d.provider_event_id for d in first}) == 2


def test_instagram_changes_are_kept_for_their_account():
    [event] = parse_meta(
        body(page_change("17841405822304914", {"id": "1", "text": "hi"}, "comments"), object_="instagram")
    )
    assert (event.kind, event.account_id) == ("other", "17841405822304914")


def test_a_signed_body_of_another_shape_is_kept_not_refused_and_garbage_is_malformed():
    assert [e.kind for e in parse_meta(b'{"app_id": "1", "values": {}}')] == ["other"]
    with pytest.raises(MalformedWebhook):
        parse_meta(b"not json")


def test_the_subscription_check_echoes_the_challenge_only_for_our_verify_token():
    provider = facebook()
    ask = {"hub.mode": "subscribe", "hub.verify_token": "our-verify-token", "hub.challenge": "1158201444"}
    assert provider.answer_challenge(ask) == "1158201444"
    with pytest.raises(InvalidSignature):
        provider.answer_challenge(ask | {"hub.verify_token": "guess"})
    with pytest.raises(InvalidSignature):
        facebook(verify_token=None).answer_challenge(ask)  # none configured: nobody may subscribe
    with pytest.raises(MalformedWebhook):
        provider.answer_challenge(ask | {"hub.mode": "unsubscribe"})
    with pytest.raises(MalformedWebhook):
        provider.answer_challenge(ask | {"hub.challenge": "<script>alert(1)</script>"})


def test_meta_providers_are_served_only_with_an_app_secret():
    registry = ProviderRegistry.from_secrets(
        {"facebook": [APP_SECRET], "instagram": [], "threads": [APP_SECRET]}
    )
    assert registry.names() == ["facebook", "threads"]
