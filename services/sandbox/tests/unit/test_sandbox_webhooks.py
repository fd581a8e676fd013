import base64
import hashlib
import hmac
import json
import time

import pytest

from aligned_sandbox.webhooks import sign
from aligned_testing.sandbox import bearer

pytestmark = pytest.mark.unit

SECRET_KEY = b"sandbox-webhook-test-key-0123456"
SECRET = "whsec_" + base64.b64encode(SECRET_KEY).decode()
TARGET = "http://aligned.test/webhooks/sandbox"


@pytest.fixture
async def configured(client):
    response = await client.post("/_control/config", json={"webhook_url": TARGET, "webhook_secret": SECRET})
    assert response.status_code == 200


def signature_is_valid(request) -> bool:
    """Verify as the Standard Webhooks spec describes it, independently of the sandbox's code."""
    webhook_id, timestamp = request.headers["webhook-id"], request.headers["webhook-timestamp"]
    signed = f"{webhook_id}.{timestamp}.".encode() + request.content
    expected = base64.b64encode(hmac.new(SECRET_KEY, signed, hashlib.sha256).digest()).decode()
    offered = [entry.split(",", 1)[1] for entry in request.headers["webhook-signature"].split()]
    return expected in offered and abs(time.time() - int(timestamp)) < 60


def test_signing_matches_the_standard_webhooks_reference_vector():
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


async def test_post_status_change_is_delivered_signed_and_takes_effect(
    configured, connect, publish, client, webhook_inbox
):
    tokens = await connect()
    post_id = (await publish(tokens)).json()["id"]

    response = await client.post(
        "/_control/webhooks/send",
        json={"type": "post.status_changed", "post_id": post_id, "status": "deleted"},
    )

    assert response.json()["delivered"] is True
    [delivered] = webhook_inbox
    assert str(delivered.url) == TARGET
    assert signature_is_valid(delivered)
    payload = json.loads(delivered.content)
    assert payload["type"] == "post.status_changed"
    assert payload["data"] | {"post_id": post_id, "status": "deleted"} == payload["data"]
    assert (await client.get(f"/api/v1/posts/{post_id}", headers=bearer(tokens))).json()[
        "status"
    ] == "deleted"


async def test_a_tampered_body_no_longer_matches(configured, connect, publish, client, webhook_inbox):
    post_id = (await publish(await connect())).json()["id"]
    await client.post("/_control/webhooks/send", json={"type": "metrics.pushed", "post_id": post_id})
    [delivered] = webhook_inbox
    delivered._content = delivered.content.replace(b"metrics", b"METRICS")
    assert not signature_is_valid(delivered)


async def test_account_deauthorized_revokes_the_accounts_tokens(configured, connect, client, webhook_inbox):
    tokens = await connect("alice")

    await client.post("/_control/webhooks/send", json={"type": "account.deauthorized", "account": "alice"})

    assert json.loads(webhook_inbox[0].content)["data"]["account_name"] == "alice"
    assert (await client.get("/api/v1/me", headers=bearer(tokens))).status_code == 401


async def test_metrics_pushed_carries_the_posts_metrics(configured, connect, publish, client, webhook_inbox):
    post_id = (await publish(await connect())).json()["id"]
    await client.post("/_control/webhooks/send", json={"type": "metrics.pushed", "post_id": post_id})
    assert set(json.loads(webhook_inbox[0].content)["data"]["metrics"]) >= {"impressions", "likes"}


async def test_publishing_sends_a_webhook_when_asked_to(configured, connect, publish, client, webhook_inbox):
    await client.post("/_control/config", json={"webhooks_on_publish": True})
    post_id = (await publish(await connect())).json()["id"]

    [delivered] = webhook_inbox
    assert signature_is_valid(delivered)
    assert json.loads(delivered.content)["data"]["post_id"] == post_id
    assert len((await client.get("/_control/webhooks/deliveries")).json()) == 1


async def test_sending_without_a_target_is_a_clear_error(client):
    response = await client.post(
        "/_control/webhooks/send", json={"type": "account.deauthorized", "account": "x"}
    )
    assert (response.status_code, response.json()["error"]) == (409, "webhooks_not_configured")


async def test_a_webhook_about_an_unknown_post_is_refused(configured, client):
    response = await client.post(
        "/_control/webhooks/send", json={"type": "metrics.pushed", "post_id": "post_nope"}
    )
    assert response.status_code == 404
