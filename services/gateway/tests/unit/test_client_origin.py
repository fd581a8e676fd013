"""The client's address the gateway signs for the audit trail: the peer, or what a trusted proxy
appended to X-Forwarded-For; never what the client wrote into the header itself."""

import pytest
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from aligned_gateway.entrypoints.pipeline import MAX_USER_AGENT_CHARS, _origin

pytestmark = pytest.mark.unit


async def _seen(peer: str, forwarded_for: str | None, trusted: str = "10.0.0.0/8", user_agent: str = "UA/1"):
    """What _origin makes of a request from `peer`, behind the gateway's proxy middleware."""
    seen = {}

    async def app(scope, receive, send):
        seen["origin"] = _origin(scope, "ann@example.com")

    headers = [(b"user-agent", user_agent.encode())]
    if forwarded_for is not None:
        headers.append((b"x-forwarded-for", forwarded_for.encode()))
    scope = {"type": "http", "client": (peer, 50000), "headers": headers, "scheme": "http"}
    await ProxyHeadersMiddleware(app, trusted_hosts=trusted)(scope, None, None)
    return seen["origin"]


async def test_a_client_not_behind_a_trusted_proxy_is_its_peer_whatever_it_claims():
    origin = await _seen("198.51.100.9", "6.6.6.6")
    assert (
        origin.client_ip == "198.51.100.9"
        and origin.user_agent == "UA/1"
        and origin.email == "ann@example.com"
    )


async def test_behind_trusted_proxies_the_client_is_the_right_most_untrusted_entry():
    # The client wrote 6.6.6.6 itself; our proxies (10.x) appended the address they saw.
    assert (await _seen("10.0.0.5", "6.6.6.6, 203.0.113.7, 10.0.0.9")).client_ip == "203.0.113.7"


async def test_what_is_no_address_is_recorded_as_unknown_and_a_long_user_agent_is_cut():
    origin = await _seen("10.0.0.5", "not-an-address", user_agent="x" * 5000)
    assert origin.client_ip is None and len(origin.user_agent) == MAX_USER_AGENT_CHARS
