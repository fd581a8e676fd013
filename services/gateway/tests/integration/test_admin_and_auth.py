"""Tokens, membership and the admin API, through a running gateway on real PostgreSQL + Kafka."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from aligned_testing.gateway import JWT_SECRET, Member, add_member, bearer, new_brand, token
from aligned_testing.kafka_reader import TopicReader

pytestmark = pytest.mark.integration


async def test_expired_forged_and_none_alg_tokens_are_401(gateway):
    async with gateway.client() as client:
        owner = await new_brand(client)
        claims = {"sub": owner.user_id, "tenant_id": owner.tenant_id, "brands": [owner.brand_id]}
        expired = token(**claims, ttl_s=60, now=time.time() - 3600)
        forged = token(**claims, secret="not-the-secret")
        payload = jwt.decode(token(**claims), JWT_SECRET, algorithms=["HS256"], audience="aligned-api")
        none_alg = jwt.encode(payload, None, algorithm="none")
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        rs256_unknown = jwt.encode(payload, private_key, algorithm="RS256", headers={"kid": "k1"})
        wrong_audience = jwt.encode({**payload, "aud": "someone-else"}, JWT_SECRET, algorithm="HS256")
        not_yet = jwt.encode({**payload, "nbf": int(time.time()) + 3600}, JWT_SECRET, algorithm="HS256")
        for bad in (expired, forged, none_alg, rs256_unknown, wrong_audience, not_yet, "garbage"):
            response = await client.get("/v1/members", headers=bearer(bad))
            assert response.status_code == 401, (bad, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["www-authenticate"].startswith("Bearer")
        assert (await client.get("/v1/members")).status_code == 401
        assert (await client.get("/v1/members", headers=owner.headers)).status_code == 200


async def test_creator_owns_brand_and_events_are_emitted(gateway, infra):
    async with (
        TopicReader(infra.kafka_bootstrap, "aligned.gateway.events") as reader,
        gateway.client() as client,
    ):
        owner = await new_brand(client, "Acme")
        editor = await add_member(client, owner, "editor")
        changed = await client.patch(
            f"/v1/members/{editor.member_id}", json={"role": "viewer"}, headers=owner.headers
        )
        assert changed.status_code == 200 and changed.json()["role"] == "viewer"
        assert (
            await client.delete(f"/v1/members/{editor.member_id}", headers=owner.headers)
        ).status_code == 204
        archived = await client.post(f"/v1/brands/{owner.brand_id}/archive", headers=owner.headers)
        assert archived.status_code == 200 and archived.json()["status"] == "archived"

        wanted = [
            "gateway.brand_created",
            "gateway.member_added",
            "gateway.member_invited",
            "gateway.member_added",
            "gateway.member_role_changed",
            "gateway.member_removed",
            "gateway.brand_archived",
        ]

        def ours(records):
            return [r for r in records if r.key == str(owner.brand_id).encode()]

        records = await reader.read_until(lambda rs: len(ours(rs)) >= len(wanted), timeout_s=60)
    types = [dict(r.headers)["event_type"].decode() for r in ours(records)]
    assert sorted(types) == sorted(wanted)
    assert types.index("gateway.member_removed") > types.index("gateway.member_role_changed")


async def test_removed_member_loses_access_at_once_and_role_changes_apply(gateway):
    async with gateway.client() as client:
        owner = await new_brand(client)
        editor = await add_member(client, owner, "editor")
        assert (await client.get("/v1/members", headers=editor.headers)).status_code == 200
        await client.patch(f"/v1/members/{editor.member_id}", json={"role": "viewer"}, headers=owner.headers)
        # Same token, still claiming "editor": the current membership role decides.
        assert (await client.get("/v1/members", headers=editor.headers)).status_code == 403
        await client.delete(f"/v1/members/{editor.member_id}", headers=owner.headers)
        response = await client.get("/v1/dashboard", headers=editor.headers)
        assert response.status_code == 403
        assert "not a member" in response.json()["detail"]


async def test_invite_is_single_use_and_expires(gateway):
    async with gateway.client() as client:
        owner = await new_brand(client)
        invited = await client.post(
            "/v1/invites", json={"email": "a@example.com", "role": "editor"}, headers=owner.headers
        )
        first = Member("a-user", owner.tenant_id, owner.brand_id, "editor")
        second = Member("b-user", owner.tenant_id, owner.brand_id, "editor")
        accept = {"token": invited.json()["token"]}
        a_headers = bearer(
            token(sub="a-user", tenant_id=owner.tenant_id, brands=[owner.brand_id], email="a@example.com")
        )
        assert (await client.post("/v1/invites/accept", json=accept, headers=a_headers)).status_code == 201
        assert (
            await client.post("/v1/invites/accept", json=accept, headers=second.headers)
        ).status_code == 404
        assert first.user_id == "a-user"
        # Another address cannot use an invite sent to someone else.
        other = await client.post(
            "/v1/invites", json={"email": "c@example.com", "role": "viewer"}, headers=owner.headers
        )
        wrong = await client.post(
            "/v1/invites/accept", json={"token": other.json()["token"]}, headers=second.headers
        )
        assert wrong.status_code == 403
        # Expired: move its expiry into the past directly (the clock is the database's).
        expiring = await client.post(
            "/v1/invites", json={"email": "d@example.com", "role": "viewer"}, headers=owner.headers
        )
        async with gateway.deps.database.pool.acquire() as conn:
            await conn.execute(
                f"UPDATE \"{gateway.deps.database.schema}\".invites SET expires_at = now() - interval '1 s'"
                " WHERE invite_id = $1",
                uuid.UUID(expiring.json()["invite_id"]),
            )
        d_headers = bearer(
            token(sub="d-user", tenant_id=owner.tenant_id, brands=[owner.brand_id], email="d@example.com")
        )
        late = await client.post(
            "/v1/invites/accept", json={"token": expiring.json()["token"]}, headers=d_headers
        )
        assert late.status_code == 404


async def test_admin_cannot_grant_ownership_and_last_owner_stays(gateway):
    async with gateway.client() as client:
        owner = await new_brand(client)
        admin = await add_member(client, owner, "admin")
        refused = await client.post(
            "/v1/invites", json={"email": "x@example.com", "role": "owner"}, headers=admin.headers
        )
        assert refused.status_code == 403
        members = (await client.get("/v1/members", headers=owner.headers)).json()["items"]
        owner_row = next(m for m in members if m["role"] == "owner")
        demote = await client.patch(
            f"/v1/members/{owner_row['member_id']}", json={"role": "editor"}, headers=owner.headers
        )
        assert demote.status_code == 409


async def test_members_page_with_cursor(gateway):
    async with gateway.client() as client:
        owner = await new_brand(client)
        for role in ("editor", "viewer", "client"):
            await add_member(client, owner, role)
        first = (await client.get("/v1/members?limit=2", headers=owner.headers)).json()
        second = (
            await client.get(f"/v1/members?limit=2&cursor={first['next_cursor']}", headers=owner.headers)
        ).json()
        ids = [m["member_id"] for m in first["items"] + second["items"]]
        assert len(ids) == 4 and len(set(ids)) == 4 and second["next_cursor"] is None


async def test_dev_token_issuer_is_off_by_default(infra, topics, scratch_schema, stubs):
    from aligned_testing.gateway import running_gateway

    async with (
        running_gateway(scratch_schema, dev_tokens_enabled=False, **stubs.urls()) as off,
        off.client() as client,
    ):
        response = await client.post("/v1/dev/token", json={"sub": "u", "tenant_id": str(uuid.uuid4())})
        assert response.status_code == 404
    from aligned_gateway.config import Settings

    assert Settings().dev_tokens_enabled is False


async def test_dev_token_works_for_the_api(gateway):
    async with gateway.client() as client:
        owner = await new_brand(client)
        issued = await client.post(
            "/v1/dev/token",
            json={
                "sub": owner.user_id,
                "tenant_id": str(owner.tenant_id),
                "brand_ids": [str(owner.brand_id)],
            },
        )
        assert issued.status_code == 200
        response = await client.get("/v1/members", headers=bearer(issued.json()["access_token"]))
        assert response.status_code == 200
