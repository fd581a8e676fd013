"""Outbound connections are pooled per host name: a connection opened (and, with TLS, its
certificate checked) for one host never carries a request for another host on the same address."""

import ipaddress

import httpx
import pytest

from aligned_common.ssrf import CheckedTarget
from aligned_testing.service import serving_asgi
from aligned_webhooks.adapters import sender

pytestmark = pytest.mark.unit


async def _client_port(scope, receive, send):
    """Answers with the caller's source port: one port per TCP connection."""
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": str(scope["client"][1]).encode()})


@pytest.fixture
async def server_port():
    async with serving_asgi(_client_port) as port:
        yield port


def _target(host: str, port: int) -> CheckedTarget:
    return CheckedTarget(
        url=f"http://{host}:{port}/hook", host=host, address=ipaddress.ip_address("127.0.0.1")
    )


async def _source_port(client: httpx.AsyncClient, host: str, port: int) -> str:
    result = await sender.post(client, _target(host, port), b"{}", {}, timeout_s=5, excerpt_bytes=100)
    assert result.succeeded, result
    return result.excerpt


async def test_two_host_names_on_one_address_never_share_a_connection(server_port):
    transport = sender.PerHostTransport(limits=httpx.Limits(max_connections=10, max_keepalive_connections=4))
    async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
        a1 = await _source_port(client, "a.example", server_port)
        b1 = await _source_port(client, "b.example", server_port)
        a2 = await _source_port(client, "A.example", server_port)
    assert a1 != b1  # b.example got a connection of its own
    assert a1 == a2  # and a.example keeps reusing its own
    assert transport.pools == 0  # closed with the client


async def test_the_least_recently_used_pools_are_closed_beyond_the_cap(server_port):
    transport = sender.PerHostTransport(limits=httpx.Limits(max_connections=10), max_hosts=2)
    async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
        for host in ("a.example", "b.example", "c.example"):
            await _source_port(client, host, server_port)
        assert transport.pools == 2
