"""One login, several publishable accounts: a connection per Facebook page, each with its token."""

import uuid

import pytest

from aligned_common.identity import Identity
from aligned_connections.adapters.platforms import AuthorizationCode, FacebookAdapter, PublishRequest
from aligned_connections.adapters.platforms.graph import GRAPH_URL
from aligned_connections.domain.errors import AuthorizationRefused
from aligned_connections.service_layer import oauth

from .fakes import world
from .recorded_api import RecordedApi, ok

pytestmark = pytest.mark.unit

GRANT = AuthorizationCode(code="c0de", code_verifier="v" * 43, redirect_uri="https://a.test/cb")


def meta_login(api: RecordedApi, pages: list[dict[str, object]]) -> None:
    api.on(
        "GET",
        f"{GRAPH_URL}/oauth/access_token",
        ok({"access_token": "short-user", "expires_in": 5183}),
        ok({"access_token": "long-user", "expires_in": 5183944}),
    )
    api.on("GET", f"{GRAPH_URL}/me/accounts", ok({"data": pages}))


async def test_a_facebook_login_connects_every_page_it_may_post_to_with_that_pages_token():
    w = world()
    identity = Identity(uuid.uuid4(), uuid.uuid4(), "user-1", "owner")
    api = RecordedApi()
    meta_login(
        api,
        [
            {"id": "101", "name": "Bakery", "access_token": "pt-101", "tasks": ["CREATE_CONTENT"]},
            {"id": "102", "name": "Cafe", "access_token": "pt-102", "tasks": ["CREATE_CONTENT"]},
        ],
    )
    async with api.client() as client:
        adapter = FacebookAdapter("app-id", "app-secret", http_client=client)
        connected = await oauth.connect_accounts(w.deps, identity, adapter, GRANT)
        again = await oauth.connect_accounts(w.deps, identity, adapter, GRANT)

    assert [(c.account_id, c.account_name, created) for c, created in connected] == [
        ("101", "Bakery", True),
        ("102", "Cafe", True),
    ]
    assert [created for _, created in again] == [False, False]  # reconnecting keeps the same rows
    assert len(w.store.connections) == 2
    tokens = {c.account_id: w.deps.vault.access_token(w.store.connections[c.id]) for c, _ in connected}
    assert tokens == {"101": "pt-101", "102": "pt-102"}
    assert [e.type for e in w.store.events] == ["connections.connected"] * 2


async def test_a_login_that_covered_no_page_one_may_post_to_is_refused():
    w = world()
    identity = Identity(uuid.uuid4(), uuid.uuid4(), "user-1", "owner")
    api = RecordedApi()
    meta_login(api, [{"id": "102", "name": "Analyst only", "access_token": "pt", "tasks": ["ANALYZE"]}])
    async with api.client() as client:
        with pytest.raises(AuthorizationRefused):
            await oauth.connect_accounts(
                w.deps, identity, FacebookAdapter("a", "s", http_client=client), GRANT
            )
    assert w.store.connections == {}


def test_a_publish_request_names_the_connections_account():
    assert PublishRequest(text="x", idempotency_key="k", account_id="101").account_id == "101"
