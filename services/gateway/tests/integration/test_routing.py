"""Routing through the gateway to upstream stubs that verify the signed identity."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from aligned_gateway.domain import routes
from aligned_gateway.domain.permissions import MATRIX, ROLES
from aligned_gateway.service_layer import idempotency
from aligned_testing.gateway import COLLECTIONS, add_member, new_brand, running_gateway

pytestmark = pytest.mark.integration


def _paths_with(item_id: str) -> list[tuple[str, str]]:
    """(method, path) for every brand-scoped route of the table, aimed at `item_id`."""
    calls = []
    for route in routes.ROUTES:
        if route.public:
            continue
        path = route.pattern.replace("{id}", item_id)
        if "{id}" not in route.pattern:
            path = f"{path}/{item_id}"
        calls += [("GET", path), ("DELETE", path), ("POST", f"{path}/archive")]
    return calls


async def test_isolation_matrix_every_route_answers_404_for_another_brands_ids(gateway, stubs):
    async with gateway.client() as client:
        a, b = await new_brand(client, "A"), await new_brand(client, "B")
        created = {}
        for service, collection in COLLECTIONS.items():
            response = await client.post(collection, json={"name": "x"}, headers=a.headers)
            assert response.status_code == 201, response.text
            created[service] = response.json()["id"]
            assert (
                await client.get(f"{collection}/{created[service]}", headers=a.headers)
            ).status_code == 200
        a_members = (await client.get("/v1/members", headers=a.headers)).json()["items"]
        for item_id in created.values():
            for method, path in _paths_with(item_id):
                response = await client.request(
                    method, path, headers=b.headers, json={} if method == "POST" else None
                )
                assert response.status_code == 404, (method, path, response.status_code)
        # The gateway's own routes with brand A's ids, called as brand B.
        own = [
            ("GET", f"/v1/posts/{created['publishing']}"),
            ("POST", f"/v1/brands/{a.brand_id}/archive"),
            ("PATCH", f"/v1/members/{a_members[0]['member_id']}"),
            ("DELETE", f"/v1/members/{a_members[0]['member_id']}"),
        ]
        for method, path in own:
            body = {"role": "viewer"} if method == "PATCH" else None
            response = await client.request(method, path, headers=b.headers, json=body)
            assert response.status_code == 404, (method, path, response.text)
        # B asking for brand A by header (its token does not name A) gets nothing of A.
        response = await client.get("/v1/jobs", headers={**b.headers, "X-Brand-Id": str(a.brand_id)})
        assert response.status_code == 403
        # And A still has everything.
        assert (await client.get(f"/v1/jobs/{created['publishing']}", headers=a.headers)).status_code == 200


async def test_upstreams_receive_the_verified_identity_and_no_smuggled_headers(gateway, stubs):
    async with gateway.client() as client:
        owner = await new_brand(client)
        editor = await add_member(client, owner, "editor")
        forged = {**editor.headers, "X-Aligned-Role": "owner", "X-Aligned-Brand-Id": str(uuid.uuid4())}
        assert (await client.get("/v1/jobs", headers=forged)).status_code == 200
    seen = stubs.states["publishing"].seen[-1]
    assert (seen.brand_id, seen.user_id, seen.role) == (owner.brand_id, editor.user_id, "editor")


@pytest.mark.parametrize("role", ROLES)
async def test_role_matrix_403s(gateway, stubs, role):
    """Each role may do exactly what the matrix says on the routed writes and reads."""
    async with gateway.client() as client:
        owner = await new_brand(client)
        member = owner if role == "owner" else await add_member(client, owner, role)
        for route in routes.ROUTES:
            if route.public:
                continue
            path = route.pattern.replace("{id}", str(uuid.uuid4()))
            for method in ("GET", "POST"):
                permission = route.permission_for(method)
                response = await client.request(
                    method, path, headers=member.headers, json={} if method == "POST" else None
                )
                expected_allowed = role in MATRIX[permission]
                assert (response.status_code != 403) == expected_allowed, (role, method, path, response.text)
        invite = await client.post(
            "/v1/invites", json={"email": "x@example.com", "role": "viewer"}, headers=member.headers
        )
        assert (invite.status_code == 201) == (role in ("owner", "admin"))


async def test_idempotent_post_returns_the_first_result(gateway, stubs):
    async with gateway.client() as client:
        owner = await new_brand(client)
        headers = {**owner.headers, "Idempotency-Key": uuid.uuid4().hex}
        first, second = [
            await client.post("/v1/jobs", json={"content": "hi"}, headers=headers) for _ in range(2)
        ]
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        assert second.headers["idempotent-replayed"] == "true"
        assert (
            len(
                [i for i in stubs.states["publishing"].items.values() if i["brand_id"] == str(owner.brand_id)]
            )
            == 1
        )
        different = await client.post("/v1/jobs", json={"content": "other"}, headers=headers)
        assert different.status_code == 422
        # Gateway-own POSTs honour it too: a retried brand creation creates one brand.
        creator = {**owner.headers, "Idempotency-Key": uuid.uuid4().hex}
        b1 = await client.post("/v1/brands", json={"name": "Twice"}, headers=creator)
        b2 = await client.post("/v1/brands", json={"name": "Twice"}, headers=creator)
        assert b1.status_code == b2.status_code == 201 and b1.json()["brand_id"] == b2.json()["brand_id"]
        # Concurrent retries: still one job.
        racing = {**owner.headers, "Idempotency-Key": uuid.uuid4().hex}
        answers = await asyncio.gather(
            *(client.post("/v1/jobs", json={"c": 1}, headers=racing) for _ in range(5))
        )
        assert {a.status_code for a in answers} <= {201, 409}
        ids = {a.json()["id"] for a in answers if a.status_code == 201}
        assert len(ids) == 1


async def test_a_key_left_reserved_by_a_dead_gateway_is_taken_over_by_a_retry(
    gateway, stubs, infra, scratch_schema
):
    """A gateway killed mid-request leaves its key reserved with no response; a retry of the
    same request must not get 409 for a day, but neither may it run beside a live request."""
    async with gateway.client() as client:
        owner = await new_brand(client)
        body = b'{"content": "retried after a crash"}'
        dead, live = uuid.uuid4().hex, uuid.uuid4().hex
        conn = await asyncpg.connect(infra.database_url)
        try:
            for key, reserved_s_ago in ((dead, 600), (live, 1)):
                await conn.execute(
                    f"""INSERT INTO "{scratch_schema}".idempotency_keys
                            (brand_id, user_id, key, method, path, body_hash, created_at)
                        VALUES ($1, $2, $3, 'POST', '/v1/jobs', $4, now() - make_interval(secs => $5))""",
                    owner.brand_id,
                    owner.user_id,
                    key,
                    idempotency.body_hash("POST", "/v1/jobs", body),
                    reserved_s_ago,
                )
        finally:
            await conn.close()

        def post(key: str, content: bytes = body):
            headers = {**owner.headers, "Idempotency-Key": key, "Content-Type": "application/json"}
            return client.post("/v1/jobs", content=content, headers=headers)

        assert (await post(live)).status_code == 409  # its request may still be running
        assert (await post(dead, b'{"content": "another request"}')).status_code == 422
        retried = await post(dead)
        assert retried.status_code == 201, retried.text
        replayed = await post(dead)
        assert replayed.headers["idempotent-replayed"] == "true" and replayed.json() == retried.json()
    jobs = [i for i in stubs.states["publishing"].items.values() if i["brand_id"] == str(owner.brand_id)]
    assert len(jobs) == 1


async def test_request_ids_cors_and_problem_json(gateway, stubs):
    async with gateway.client() as client:
        owner = await new_brand(client)
        response = await client.get("/v1/jobs", headers={**owner.headers, "X-Request-Id": "abc-123"})
        assert response.headers["x-request-id"] == "abc-123"
        generated = await client.get("/v1/nothing-here", headers=owner.headers)
        assert generated.status_code == 404 and len(generated.headers["x-request-id"]) == 32
        assert generated.headers["content-type"] == "application/problem+json"
        preflight = await client.options(
            "/v1/jobs", headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
        invalid = await client.post(
            "/v1/invites", json={"email": "nope", "role": "viewer"}, headers=owner.headers
        )
        assert invalid.status_code == 422 and "email" in invalid.json()["detail"]


async def test_rate_limits_hold_across_two_replicas(infra, topics, scratch_schema, stubs):
    limits = dict(
        brand_burst=5.0, brand_rate_per_s=0.01, user_burst=100.0, user_rate_per_s=1.0, **stubs.urls()
    )
    async with (
        running_gateway(scratch_schema, **limits) as one,
        running_gateway(scratch_schema, **limits) as two,
        one.client() as c1,
        two.client() as c2,
    ):
        owner = await new_brand(c1)
        answers = [await (c1 if i % 2 else c2).get("/v1/jobs", headers=owner.headers) for i in range(8)]
    statuses = [a.status_code for a in answers]
    assert statuses.count(200) == 5 and statuses.count(429) == 3, statuses
    refused = answers[-1]
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["ratelimit-remaining"] == "0" and refused.headers["ratelimit-limit"] == "5"
    assert refused.json()["status"] == 429
    assert answers[0].headers["ratelimit-remaining"] == "4"
