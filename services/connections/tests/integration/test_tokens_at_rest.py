"""Tokens are never stored in plain text, and rotating the encryption key keeps every
connection usable."""

import base64
import json
import os
import subprocess
import sys
import uuid

import pytest

from aligned_connections.adapters.connections_repo import SqlConnections
from aligned_connections.adapters.crypto import DecryptionError, key_id_of
from aligned_connections.bootstrap import build

pytestmark = pytest.mark.integration


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


async def raw_rows(pg_pool, service, table="platform_connections"):
    return await pg_pool.fetch(
        f'SELECT t::text AS whole, t.* FROM "{service.schema}".{table} t WHERE brand_id = $1',
        service.brand_id,
    )


async def test_a_raw_read_of_the_table_shows_no_plaintext_token(service, pg_pool, tools):
    connection = await tools.connect(service)
    async with service.uow(service.brand_id) as uow:
        row = await SqlConnections(uow.conn).get(service.brand_id, uuid.UUID(connection["id"]))
    access, refresh = service.deps.vault.access_token(row), service.deps.vault.refresh_token(row)
    assert access and refresh

    [raw] = await raw_rows(pg_pool, service)
    assert access not in raw["whole"] and refresh not in raw["whole"]
    assert raw["access_token"].startswith("v1:k1:") and raw["refresh_token"].startswith("v1:k1:")
    # The PKCE verifier of the authorization is sealed too.
    [state] = await raw_rows(pg_pool, service, "oauth_states")
    assert state["code_verifier"].startswith("v1:k1:")


async def test_a_ciphertext_moved_to_another_row_does_not_open(service, tools):
    first = await tools.connect(service, "alice")
    second = await tools.connect(service, "bob")
    async with service.uow(service.brand_id) as uow:
        await uow.conn.execute(
            "UPDATE platform_connections SET access_token = (SELECT access_token FROM platform_connections WHERE id = $1) WHERE id = $2",
            uuid.UUID(first["id"]),
            uuid.UUID(second["id"]),
        )
        moved = await SqlConnections(uow.conn).get(service.brand_id, uuid.UUID(second["id"]))
    with pytest.raises(DecryptionError):
        service.deps.vault.access_token(moved)
    async with service.uow(service.brand_id) as uow:  # the module's other tests share the table
        await uow.conn.execute("DELETE FROM platform_connections WHERE id = $1", uuid.UUID(second["id"]))


async def test_key_rotation_keeps_every_connection_usable(service, sandbox, pg_pool, tools, infra):
    connections = [await tools.connect(service, name) for name in ("alice", "bob", "carol")]
    old_keys = json.loads(service.settings.encryption_keys.get_secret_value())
    rotated_keys = {**old_keys, "k2": new_key()}
    env = {
        **os.environ,
        "ALIGNED_DATABASE_URL": infra.database_url,
        "ALIGNED_CONNECTIONS_ENCRYPTION_KEYS": json.dumps(rotated_keys),
        "ALIGNED_CONNECTIONS_ACTIVE_KEY_ID": "k2",
        "ALIGNED_CONNECTIONS_STATE_SECRET": "rotation-test-state-secret",
    }
    done = subprocess.run(
        [sys.executable, "-m", "aligned_connections", "rotate-keys", "--schema", service.schema],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "0 still under an old key" in done.stdout

    # The old key is dropped: every token must open with the new key alone and still work.
    only_new = service.settings.model_copy(
        update={
            "encryption_keys": type(service.settings.encryption_keys)(json.dumps({"k2": rotated_keys["k2"]})),
            "active_key_id": "k2",
        }
    )
    deps = build(only_new, name=service.schema).deps
    await deps.database.open()
    try:
        for connection in connections:
            async with deps.uow(service.brand_id) as uow:
                row = await uow.connections.get(service.brand_id, uuid.UUID(connection["id"]))
            assert key_id_of(row.access_token_ct) == "k2" and key_id_of(row.refresh_token_ct) == "k2"
            account = await deps.platform("sandbox").get_account(deps.vault.access_token(row))
            assert account.name == connection["account_name"]
            refreshed = await deps.platform("sandbox").refresh(deps.vault.refresh_token(row))
            assert refreshed.access_token.get_secret_value()
    finally:
        await deps.close()
        await deps.database.close()
