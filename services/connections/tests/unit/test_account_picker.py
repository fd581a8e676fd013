"""One login, several publishable accounts (a LinkedIn member and the pages they administer):
connecting stores a connection for each, with the same tokens, and says Connected for each."""

import uuid

import pytest

from aligned_common.events.connections import Connected
from aligned_common.identity import Identity
from aligned_connections.adapters.platforms import AuthorizationCode, PlatformAccount
from aligned_connections.adapters.vault import ACCESS
from aligned_connections.service_layer import connections, oauth

from .fakes import FakePlatform

pytestmark = pytest.mark.unit

GRANT = AuthorizationCode(code="c", code_verifier="v" * 43, redirect_uri="https://app.example/cb")


class SeveralAccounts(FakePlatform):
    def __init__(self, accounts: list[PlatformAccount]) -> None:
        super().__init__()
        self.accounts = accounts

    async def list_accounts(self, access_token: str) -> list[PlatformAccount]:
        return self.accounts


def identity() -> Identity:
    return Identity(tenant_id=uuid.uuid4(), brand_id=uuid.uuid4(), user_id="user-1", role="owner")


async def test_each_account_of_the_login_becomes_a_connection(world):
    member = PlatformAccount(id="urn:li:person:782bbtaQ", name="Ada")
    page = PlatformAccount(id="urn:li:organization:2414183", name="Acme Corp")
    who = identity()
    first, created = await oauth.connect(world.deps, who, SeveralAccounts([member, page]), GRANT)
    assert created and first.account_id == member.id
    stored = sorted(c.account_id for c in world.store.connections.values())
    assert stored == sorted([member.id, page.id])
    connected = [e for e in world.store.events if e.type == Connected.event_type_name]
    assert sorted(e.data["account_id"] for e in connected) == stored
    for connection in world.store.connections.values():
        access = world.deps.vault.open(connection.id, ACCESS, connection.access_token_ct)
        assert access == "access-1"


async def test_connecting_again_adds_a_new_page_and_keeps_the_others(world):
    member = PlatformAccount(id="urn:li:person:782bbtaQ", name="Ada")
    page = PlatformAccount(id="urn:li:organization:2414183", name="Acme Corp")
    who = identity()
    await oauth.connect(world.deps, who, SeveralAccounts([member]), GRANT)
    _, created = await oauth.connect(world.deps, who, SeveralAccounts([member, page]), GRANT)
    assert not created  # the member's connection already existed
    assert len(world.store.connections) == 2


async def test_an_adapter_of_one_account_makes_one_connection(world):
    _, created = await oauth.connect(world.deps, identity(), world.platform, GRANT)
    assert created and len(world.store.connections) == 1


async def test_disconnecting_one_account_keeps_the_grant_its_siblings_still_use(world):
    member = PlatformAccount(id="urn:li:person:782bbtaQ", name="Ada")
    page = PlatformAccount(id="urn:li:organization:2414183", name="Acme Corp")
    who = identity()
    first, _ = await oauth.connect(world.deps, who, SeveralAccounts([member, page]), GRANT)
    (second,) = [c for c in world.store.connections.values() if c.id != first.id]
    await connections.disconnect(world.deps, who, second.id)
    assert "revoke" not in world.platform.calls  # the member's connection still holds the grant
    await connections.disconnect(world.deps, who, first.id)
    assert world.platform.calls.count("revoke") == 1  # the last one ends the grant
