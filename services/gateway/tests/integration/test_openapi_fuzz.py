"""One OpenAPI document, generated from the services' own and served as checked in (ADR 0019):
every service's paths are in it whether or not the service answers. Schemathesis calls every
operation against the real services in tests/acceptance/test_gateway_fuzz.py (against these
stubs, whose answers are generic, schema conformance would mean nothing)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


async def test_openapi_merges_the_services_paths(gateway, stubs):
    async with gateway.client() as client:
        doc = (await client.get("/openapi.json")).json()
        assert doc["openapi"].startswith("3.1")
        for path in (
            "/v1/jobs",
            "/v1/jobs/{job_id}",
            "/v1/approvals",
            "/v1/jobs/{job_id}/approvals",
            "/v1/connections",
            "/v1/analytics/summary",
            "/v1/webhook-endpoints",
            "/v1/dashboard",
            "/v1/posts/{job_id}",
            "/v1/members",
            "/v1/events/stream",
        ):
            assert path in doc["paths"], path
        assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
        # The problems the gateway itself answers are listed on every operation.
        create = doc["paths"]["/v1/jobs"]["post"]["responses"]
        assert {"400", "401", "403", "413", "429", "503"} <= set(create)
        assert create["413"]["content"]["application/problem+json"]["schema"]["$ref"].endswith("/Problem")
        assert "413" not in doc["paths"]["/v1/jobs"]["get"]["responses"]
        assert (await client.get("/docs")).status_code == 200
        # A service that is down loses none of its paths.
        await stubs.running["webhooks"].stop()
        after = await client.get("/openapi.json")
        assert after.status_code == 200 and after.json() == doc
