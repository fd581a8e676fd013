"""Connecting an account end to end: OAuth with PKCE and a signed single-use state, tokens
encrypted at rest, reconnecting, and what the API refuses."""

import uuid

import httpx
import pytest

from aligned_testing.sandbox import redirect_query

pytestmark = pytest.mark.integration

REDIRECT_URI = "https://app.aligned.test/connections/callback"


async def start(api, svc, platform="sandbox", **header_args):
    return await api.post(
        f"/v1/connections/oauth/{platform}/start",
        json={"redirect_uri": REDIRECT_URI},
        headers=svc.headers(**header_args),
    )


async def consent(authorization_url: str, account: str = "alice") -> dict:
    async with httpx.AsyncClient(timeout=10) as browser:
        answer = await browser.get(authorization_url + f"&auto_approve=1&account={account}")
    assert answer.status_code == 302
    return redirect_query(answer.headers["location"])


async def test_full_oauth_flow_stores_the_connection_and_announces_it(service, tools):
    async with tools.reader(service.bootstrap, tools.topic) as reader, service.client() as api:
        started = await start(api, service)
        assert started.status_code == 201
        url = started.json()["authorization_url"]
        assert "code_challenge_method=S256" in url and "code_challenge=" in url

        answer = await consent(url)
        done = await api.post(
            "/v1/connections/oauth/sandbox/callback",
            json={"code": answer["code"], "state": answer["state"]},
            headers=service.headers(),
        )
        assert done.status_code == 200, done.text
        connection = done.json()["connection"]
        assert connection["status"] == "connected" and connection["account_name"] == "alice"
        assert connection["has_refresh_token"] is True
        stored = await _row(service, connection["id"])
        assert service.deps.vault.access_token(stored) not in done.text
        assert service.deps.vault.refresh_token(stored) not in done.text

        listed = await api.get("/v1/connections", headers=service.headers())
        assert [c["id"] for c in listed.json()] == [connection["id"]]
        records = await reader.read_until(
            lambda rs: tools.envelopes_of(rs, {service.brand_id}, "connections.connected"),
            timeout_s=30,
            settle_s=0.2,
        )
    connected = tools.envelopes_of(records, {service.brand_id}, "connections.connected")
    assert [e.data["connection_id"] for e in connected] == [connection["id"]]


async def test_a_replayed_state_is_refused(service):
    async with service.client() as api:
        started = await start(api, service)
        answer = await consent(started.json()["authorization_url"])
        body = {"code": answer["code"], "state": answer["state"]}
        first = await api.post("/v1/connections/oauth/sandbox/callback", json=body, headers=service.headers())
        replay = await api.post(
            "/v1/connections/oauth/sandbox/callback", json=body, headers=service.headers()
        )
    assert first.status_code == 200
    assert replay.status_code == 400
    assert replay.headers["content-type"].startswith("application/problem+json")


async def test_a_forged_or_foreign_state_is_refused(service):
    async with service.client() as api:
        started = await start(api, service)
        answer = await consent(started.json()["authorization_url"])
        tampered = answer["state"][:-2] + ("AA" if not answer["state"].endswith("AA") else "BB")
        forged = await api.post(
            "/v1/connections/oauth/sandbox/callback",
            json={"code": answer["code"], "state": tampered},
            headers=service.headers(),
        )
        other_user = await api.post(
            "/v1/connections/oauth/sandbox/callback",
            json={"code": answer["code"], "state": answer["state"]},
            headers=service.headers(user_id="someone-else"),
        )
        other_brand = await api.post(
            "/v1/connections/oauth/sandbox/callback",
            json={"code": answer["code"], "state": answer["state"]},
            headers=service.headers(brand_id=uuid.uuid4()),
        )
    assert forged.status_code == 400
    assert other_user.status_code == 400
    assert other_brand.status_code == 400


async def test_unknown_platform_is_404_problem(service):
    async with service.client() as api:
        response = await start(api, service, platform="myspace")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_only_owners_and_admins_connect_accounts(service):
    async with service.client() as api:
        response = await start(api, service, role="editor")
    assert response.status_code == 403


async def test_another_brand_cannot_see_or_touch_a_connection(service, tools):
    connection = await tools.connect(service)
    other = uuid.uuid4()
    async with service.client() as api:
        seen = await api.get(f"/v1/connections/{connection['id']}", headers=service.headers(brand_id=other))
        deleted = await api.delete(
            f"/v1/connections/{connection['id']}", headers=service.headers(brand_id=other)
        )
        listed = await api.get("/v1/connections", headers=service.headers(brand_id=other))
    assert seen.status_code == 404 and deleted.status_code == 404
    assert listed.json() == []


async def test_reconnecting_an_expired_account_restores_it_and_keeps_the_refresh_token(
    service, sandbox, tools
):
    first = await tools.connect(service)
    async with service.uow(service.brand_id) as uow:
        refresh_before = await uow.conn.fetchval(
            "SELECT refresh_token FROM platform_connections WHERE id = $1", uuid.UUID(first["id"])
        )
        await uow.conn.execute(
            "UPDATE platform_connections SET status = 'expired' WHERE id = $1", uuid.UUID(first["id"])
        )
    async with tools.reader(service.bootstrap, tools.topic) as reader:
        again = await tools.connect(service)
        records = await reader.read_until(
            lambda rs: tools.envelopes_of(rs, {service.brand_id}, "connections.connection_restored"),
            timeout_s=30,
            settle_s=0.2,
        )
    assert again["id"] == first["id"] and again["status"] == "connected"
    assert tools.envelopes_of(records, {service.brand_id}, "connections.connection_restored")
    assert not tools.envelopes_of(records, {service.brand_id}, "connections.connected")
    # The sandbox gives a new refresh token with every consent; it replaced the old one.
    async with service.uow(service.brand_id) as uow:
        refresh_after = await uow.conn.fetchval(
            "SELECT refresh_token FROM platform_connections WHERE id = $1", uuid.UUID(first["id"])
        )
    assert refresh_after is not None and refresh_after != refresh_before


async def test_disconnect_revokes_at_the_platform_and_forgets_the_tokens(service, sandbox, tools):
    connection = await tools.connect(service)
    token = service.deps.vault.access_token(await _row(service, connection["id"]))
    async with service.client() as api:
        response = await api.delete(f"/v1/connections/{connection['id']}", headers=service.headers())
    assert response.status_code == 200 and response.json()["status"] == "disconnected"
    me = await sandbox.http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401  # the grant is gone at the platform too
    async with service.uow(service.brand_id) as uow:
        row = await uow.conn.fetchrow(
            "SELECT access_token, refresh_token FROM platform_connections WHERE id = $1",
            uuid.UUID(connection["id"]),
        )
    assert row["access_token"] is None and row["refresh_token"] is None


async def _row(service, connection_id):
    from aligned_connections.adapters.connections_repo import SqlConnections

    async with service.uow(service.brand_id) as uow:
        return await SqlConnections(uow.conn).get(service.brand_id, uuid.UUID(connection_id))
