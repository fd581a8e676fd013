import pytest

from aligned_testing.sandbox import bearer

pytestmark = pytest.mark.unit


async def test_reset_forgets_posts_tokens_faults_and_config(connect, publish, client):
    tokens = await connect()
    await publish(tokens)
    await client.post("/_control/config", json={"token_ttl_s": 5})
    await client.post(
        "/_control/faults", json={"mode": "error_500", "count": 10, "endpoint": "/api/v1/posts"}
    )

    assert (await client.post("/_control/reset")).status_code == 204

    assert (await client.get("/_control/posts/counts")).json()["total_created"] == 0
    assert (await client.get("/_control/config")).json()["token_ttl_s"] == 300
    assert (await client.get("/_control/faults")).json() == []
    assert (await client.get("/api/v1/me", headers=bearer(tokens))).status_code == 401


async def test_config_changes_are_partial_and_validated(client):
    changed = (await client.post("/_control/config", json={"token_ttl_s": 42})).json()
    assert (changed["token_ttl_s"], changed["rate_limit_capacity"]) == (42, 600)

    assert (await client.post("/_control/config", json={"token_ttl": 42})).status_code == 422
    assert (await client.post("/_control/config", json={"token_ttl_s": -1})).status_code == 422
    assert (await client.post("/_control/config", json={"webhook_secret": "plain"})).status_code == 422


async def test_health(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
