"""Tokens kept alive: refresh ahead of expiry, transient failures retried without disconnecting,
an auth failure expiring the connection; verify and refresh on demand; the product's queries."""

import uuid

import pytest

from aligned_connections.adapters.connections_repo import SqlConnections

pytestmark = pytest.mark.integration


async def stored(service, connection_id):
    async with service.uow(service.brand_id) as uow:
        return await SqlConnections(uow.conn).get(service.brand_id, uuid.UUID(connection_id))


async def connect_short_lived(service, sandbox, tools, ttl_s=2.0, account="alice"):
    await sandbox.configure(token_ttl_s=ttl_s)
    return await tools.connect(service, account)


async def test_tokens_are_refreshed_before_they_expire(service, sandbox, tools):
    connection = await connect_short_lived(service, sandbox, tools)
    before = await stored(service, connection["id"])

    async def refreshed():
        now = await stored(service, connection["id"])
        return now if now.access_token_ct != before.access_token_ct else None

    after = await tools.eventually(refreshed, timeout_s=20)
    assert after.status.value == "connected" and after.expires_at > before.expires_at
    new_token = service.deps.vault.access_token(after)
    me = await sandbox.http.get("/api/v1/me", headers={"Authorization": f"Bearer {new_token}"})
    assert me.status_code == 200
    # The sandbox sends no new refresh token on refresh: ours must still be there and work.
    assert service.deps.vault.refresh_token(after) == service.deps.vault.refresh_token(before)


async def test_a_transient_refresh_failure_keeps_the_connection(service, sandbox, tools):
    connection = await connect_short_lived(service, sandbox, tools)
    before = await stored(service, connection["id"])
    await sandbox.fault(mode="error_500", endpoint="/oauth/token", count=2)
    await sandbox.fault(mode="error_429", endpoint="/oauth/token", retry_after_s=0)

    async def refreshed():
        now = await stored(service, connection["id"])
        return now if now.access_token_ct != before.access_token_ct else None

    after = await tools.eventually(refreshed, timeout_s=30)
    assert await sandbox.faults() == []  # every failure was met, and retried past
    assert after.status.value == "connected" and after.last_error is None


async def test_a_refused_refresh_expires_the_connection_and_says_so(service, sandbox, tools):
    connection = await connect_short_lived(service, sandbox, tools)
    async with tools.reader(service.bootstrap, tools.topic) as reader:
        await sandbox.fault(mode="error_401", endpoint="/oauth/token")
        records = await reader.read_until(
            lambda rs: tools.envelopes_of(rs, {service.brand_id}, "connections.connection_expired"),
            timeout_s=30,
            settle_s=0.3,
        )
    [expired] = tools.envelopes_of(records, {service.brand_id}, "connections.connection_expired")
    assert expired.data["connection_id"] == connection["id"]
    assert "injected fault" in expired.data["reason"]
    now = await stored(service, connection["id"])
    assert now.status.value == "expired" and now.refresh_token_ct is not None


async def test_verify_now_and_refresh_now(service, sandbox, tools):
    connection = await tools.connect(service)
    before = await stored(service, connection["id"])
    async with service.client() as api:
        verified = await api.post(
            f"/v1/connections/{connection['id']}/verify", headers=service.headers(role="editor")
        )
        refreshed = await api.post(
            f"/v1/connections/{connection['id']}/refresh", headers=service.headers(role="editor")
        )
        await sandbox.fault(mode="error_500", endpoint="/oauth/token")
        unavailable = await api.post(f"/v1/connections/{connection['id']}/refresh", headers=service.headers())
        viewer = await api.post(
            f"/v1/connections/{connection['id']}/refresh", headers=service.headers(role="viewer")
        )
    assert (
        verified.status_code == 200 and verified.json()["last_verified_at"] >= connection["last_verified_at"]
    )
    assert refreshed.status_code == 200 and refreshed.json()["status"] == "connected"
    assert (await stored(service, connection["id"])).access_token_ct != before.access_token_ct
    assert unavailable.status_code == 503 and unavailable.json()["status"] == 503
    assert viewer.status_code == 403


async def test_verify_finds_a_dead_token_and_expires_the_connection(service, sandbox, tools):
    connection = await tools.connect(service)
    await sandbox.fault(mode="error_401", endpoint="/api/v1/me")
    await sandbox.fault(mode="error_401", endpoint="/oauth/token")
    async with service.client() as api:
        verified = await api.post(f"/v1/connections/{connection['id']}/verify", headers=service.headers())
    assert verified.status_code == 200 and verified.json()["status"] == "expired"


async def test_expiring_within_hours_and_stats_per_brand(service, sandbox, tools):
    soon = await connect_short_lived(service, sandbox, tools, ttl_s=3600, account="alice")
    await sandbox.configure(token_ttl_s=3 * 86400)
    later = await tools.connect(service, "bob")
    gone = await tools.connect(service, "carol")
    async with service.client() as api:
        await api.delete(f"/v1/connections/{gone['id']}", headers=service.headers())
        within_2h = await api.get(
            "/v1/connections/expiring", params={"within_hours": 2}, headers=service.headers()
        )
        within_4d = await api.get(
            "/v1/connections/expiring", params={"within_hours": 96}, headers=service.headers()
        )
        bad = await api.get(
            "/v1/connections/expiring", params={"within_hours": -1}, headers=service.headers()
        )
        stats = await api.get("/v1/connections/stats", headers=service.headers())
    assert [c["id"] for c in within_2h.json()] == [soon["id"]]
    assert [c["id"] for c in within_4d.json()] == [soon["id"], later["id"]]
    assert bad.status_code == 422 and "within_hours" in bad.json()["detail"]
    body = stats.json()
    assert body["total"] == 3
    assert (
        body["by_platform"]["sandbox"]["connected"] == 2
        and body["by_platform"]["sandbox"]["disconnected"] == 1
    )
