"""A tampered OAuth state never connects an account: every change of the state's signature
character that a lenient base64 decode used to forgive is refused through the gateway, and the
untouched state then still connects (so the refusals were about the tampering)."""

from __future__ import annotations

import string
import urllib.parse

import httpx
import pytest

from aligned_testing.gateway_client import REDIRECT_URI, BrandSetup, SandboxControl

pytestmark = pytest.mark.e2e

B64URL = string.ascii_letters + string.digits + "-_"


async def _authorized(owner, sandbox_url: str, account: str) -> tuple[str, str]:
    started = await owner.post("/v1/connections/oauth/sandbox/start", {"redirect_uri": REDIRECT_URI})
    query = urllib.parse.urlencode({"auto_approve": 1, "account": account})
    async with httpx.AsyncClient(timeout=30) as browser:
        consent = await browser.get(f"{started['authorization_url']}&{query}", follow_redirects=False)
    assert consent.status_code == 302, consent.text
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(consent.headers["location"]).query))
    return params["code"], params["state"]


async def test_every_change_of_the_state_signatures_last_character_is_refused(
    brand: BrandSetup, sandbox: SandboxControl
):
    owner = brand.owner.api
    code, state = await _authorized(owner, sandbox.base_url, f"tamper-{brand.brand_id[:8]}")
    # The last character of a 32-byte MAC in unpadded base64url carries 2 spare bits: several
    # texts decode to the same bytes. Only the exact text issued may verify.
    tampered = [state[:-1] + c for c in B64URL if c != state[-1]] + [state + "=", state + "A", state[:-1]]
    for candidate in tampered:
        refused = await owner.request(
            "POST",
            "/v1/connections/oauth/sandbox/callback",
            json_body={"code": code, "state": candidate},
            ok=(400,),
        )
        assert refused["title"] == "Invalid OAuth state", (candidate, refused)
    connected = await owner.post("/v1/connections/oauth/sandbox/callback", {"code": code, "state": state})
    assert connected["connection"]["status"] == "connected"
