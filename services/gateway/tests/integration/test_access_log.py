"""Access logs never carry a credential: link tokens and query values are redacted in the
lines uvicorn writes for the gateway (aligned_common.telemetry.redact_access_log, installed
by setup_logging for every service)."""

from __future__ import annotations

import logging

import pytest

from aligned_common.telemetry import redact_access_log, redact_target
from aligned_testing.gateway import new_brand

pytestmark = pytest.mark.integration


def test_redact_target():
    assert redact_target("/review/abc.def?x=1") == "/review/[redacted]?x=[redacted]"
    assert redact_target("/unsubscribe/tok/confirm") == "/unsubscribe/[redacted]/confirm"
    assert (
        redact_target("/v1/events/stream?access_token=e.y.J&a")
        == "/v1/events/stream?access_token=[redacted]&a=[redacted]"
    )
    assert redact_target("/v1/jobs/123") == "/v1/jobs/123"


async def test_the_gateway_access_log_carries_no_token(gateway, stubs, caplog):
    redact_access_log()
    secret = "eyJ.secret-token.value"
    async with gateway.client() as client:
        owner = await new_brand(client)
        with caplog.at_level(logging.INFO, logger="uvicorn.access"):
            await client.get(f"/review/{secret}")
            await client.get(f"/unsubscribe/{secret}")
            await client.get(
                "/v1/jobs", params={"access_token": secret, "cursor": secret}, headers=owner.headers
            )
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert len(lines) >= 3, lines
    assert all(secret not in line for line in lines), lines
    assert any("/review/[redacted]" in line for line in lines), lines
    assert any("access_token=[redacted]" in line for line in lines), lines
