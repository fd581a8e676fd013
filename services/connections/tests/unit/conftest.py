import asyncio

import httpx
import pytest

from aligned_connections.adapters.platforms import AuthorizationCode, SandboxAdapter, TokenSet
from aligned_sandbox import create_app
from aligned_testing.sandbox import PkcePair, approve

from . import fakes

SANDBOX_URL = "http://sandbox.test"
CLIENT_ID = "aligned-connections"
REDIRECT_URI = "http://aligned.test/connections/callback"
WEBHOOK_SECRET = "whsec_c2FuZGJveC13ZWJob29rLXNlY3JldC1mb3ItdGVzdHM="


class ASGITransportWithDeadlines(httpx.AsyncBaseTransport):
    """httpx's ASGITransport ignores timeouts; a real socket does not. This one raises
    ReadTimeout when the app has not answered within the request's read timeout, so that the
    adapter meets a lost answer exactly as it would over the network."""

    def __init__(self, app) -> None:
        self._inner = httpx.ASGITransport(app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        read_timeout = request.extensions.get("timeout", {}).get("read")
        try:
            return await asyncio.wait_for(self._inner.handle_async_request(request), read_timeout)
        except TimeoutError:
            raise httpx.ReadTimeout("no answer within the read timeout", request=request) from None


@pytest.fixture
def webhook_inbox() -> list[httpx.Request]:
    return []


@pytest.fixture
def sandbox_app(webhook_inbox):
    def receive(request: httpx.Request) -> httpx.Response:
        request.read()
        webhook_inbox.append(request)
        return httpx.Response(204)

    return create_app(webhook_transport=httpx.MockTransport(receive))


@pytest.fixture
async def sandbox_http(sandbox_app):
    async with httpx.AsyncClient(
        transport=ASGITransportWithDeadlines(sandbox_app), base_url=SANDBOX_URL
    ) as client:
        yield client


@pytest.fixture
def webhook_secret() -> str:
    return WEBHOOK_SECRET


@pytest.fixture
def sandbox_adapter(sandbox_http) -> SandboxAdapter:
    timeouts = httpx.Timeout(connect=1.0, read=0.5, write=1.0, pool=1.0)
    return SandboxAdapter(
        SANDBOX_URL, CLIENT_ID, http_client=sandbox_http, webhook_secrets=[WEBHOOK_SECRET], timeout=timeouts
    )


@pytest.fixture
def connect_sandbox(sandbox_adapter, sandbox_http):
    """Connect an account the way the connections service will: PKCE, consent, code exchange."""

    async def run(account: str = "alice") -> TokenSet:
        pkce = PkcePair.generate()
        url = await sandbox_adapter.authorize_url("state-1", pkce.challenge, REDIRECT_URI, ["read", "write"])
        answer = await approve(sandbox_http, url, account)
        assert answer["state"] == "state-1"
        return await sandbox_adapter.exchange_code(
            AuthorizationCode(code=answer["code"], code_verifier=pkce.verifier, redirect_uri=REDIRECT_URI)
        )

    return run


@pytest.fixture
def control(sandbox_http):
    """The sandbox's control API, for arranging faults and reading creation counts."""

    class Control:
        async def fault(self, **spec) -> None:
            response = await sandbox_http.post("/_control/faults", json=spec)
            assert response.status_code == 201, response.text

        async def configure(self, **changes) -> None:
            response = await sandbox_http.post("/_control/config", json=changes)
            assert response.status_code == 200, response.text

        async def advance_clock(self, seconds: float) -> None:
            await sandbox_http.post("/_control/clock/advance", json={"seconds": seconds})

        async def counts(self) -> dict:
            return (await sandbox_http.get("/_control/posts/counts")).json()

    return Control()


@pytest.fixture
def world():
    """The service's deps on in-memory fakes: no database, broker or platform behind them."""
    return fakes.world()
