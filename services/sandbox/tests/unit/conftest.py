from urllib.parse import urlencode

import httpx
import pytest

from aligned_sandbox import create_app
from aligned_testing.sandbox import PkcePair, approve, bearer

CLIENT_ID = "aligned-test"
REDIRECT_URI = "http://app.test/oauth/callback"


@pytest.fixture
def webhook_inbox() -> list[httpx.Request]:
    return []


@pytest.fixture
def app(webhook_inbox):
    def receive(request: httpx.Request) -> httpx.Response:
        request.read()
        webhook_inbox.append(request)
        return httpx.Response(204)

    return create_app(webhook_transport=httpx.MockTransport(receive))


@pytest.fixture
async def client(app):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://sandbox.test"
    ) as client:
        yield client


class OAuthFlow:
    """The client side of the sandbox's OAuth flow, as a connecting app performs it."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    def authorize_url(self, pkce: PkcePair, state: str = "st-1") -> str:
        return "/oauth/authorize?" + urlencode(
            {
                "client_id": CLIENT_ID,
                "redirect_uri": REDIRECT_URI,
                "state": state,
                "response_type": "code",
                "code_challenge": pkce.challenge,
                "code_challenge_method": "S256",
                "scope": "read write",
            }
        )

    async def code(self, pkce: PkcePair, account: str = "alice", state: str = "st-1") -> str:
        query = await approve(self.client, self.authorize_url(pkce, state), account)
        assert query["state"] == state
        return query["code"]

    async def exchange(self, code: str, verifier: str, redirect_uri: str = REDIRECT_URI) -> httpx.Response:
        return await self.client.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": CLIENT_ID,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
        )

    async def refresh(self, refresh_token: str) -> httpx.Response:
        return await self.client.post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": CLIENT_ID,
            },
        )

    async def connect(self, account: str = "alice") -> dict:
        pkce = PkcePair.generate()
        response = await self.exchange(await self.code(pkce, account), pkce.verifier)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def oauth(client) -> OAuthFlow:
    return OAuthFlow(client)


@pytest.fixture
def connect(oauth):
    return oauth.connect


@pytest.fixture
def publish(client):
    async def run(tokens: dict, text: str = "hello", key: str | None = None) -> httpx.Response:
        headers = bearer(tokens) | ({"Idempotency-Key": key} if key else {})
        return await client.post("/api/v1/posts", json={"text": text}, headers=headers)

    return run
