"""A platform whose app credentials the operator has not configured is simply not offered: it is
missing from the brand's platform list and connecting to it is a 404 problem naming it, through
the gateway; the configured sandbox is offered and starts a connect (issue 23)."""

from __future__ import annotations

import pytest

from aligned_testing.gateway_client import REDIRECT_URI, BrandSetup

pytestmark = pytest.mark.e2e

UNCONFIGURED = ("x", "linkedin", "youtube", "tiktok")  # no ALIGNED_CONNECTIONS_*_CLIENT_* in tests


async def test_a_platform_without_credentials_is_not_offered_and_cannot_be_connected(brand: BrandSetup):
    owner = brand.owner.api
    offered = {platform["name"] for platform in await owner.get("/v1/connections/platforms")}
    assert "sandbox" in offered
    assert not offered & set(UNCONFIGURED)
    for platform in UNCONFIGURED:
        refused = await owner.request(
            "POST",
            f"/v1/connections/oauth/{platform}/start",
            json_body={"redirect_uri": REDIRECT_URI},
            ok=(404,),
        )
        assert refused["title"] == "Unknown platform" and platform in refused["detail"], refused
    started = await owner.post("/v1/connections/oauth/sandbox/start", {"redirect_uri": REDIRECT_URI})
    assert started["authorization_url"]
