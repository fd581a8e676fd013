"""rotate-keys re-seals every endpoint's secrets under the active key, so the old key can go."""

import base64
import os
import uuid
from types import SimpleNamespace

import pytest

from aligned_common.db import UnitOfWork
from aligned_common.migrations import migrate
from aligned_common.units import Opens
from aligned_webhooks.adapters.endpoint_store import SqlEndpoints
from aligned_webhooks.adapters.secret_box import SecretBox, SecretBoxError
from aligned_webhooks.adapters.unit_of_work import SqlUnitOfWork
from aligned_webhooks.bootstrap import MIGRATIONS
from aligned_webhooks.service_layer.rotation import rotate_keys

pytestmark = pytest.mark.integration


def key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


async def test_rotation_moves_current_and_previous_secrets_to_the_new_key(infra, scratch_schema, pg_pool):
    await migrate(infra.database_url, scratch_schema, MIGRATIONS)
    old_key, new_key = key("old"), key("new")
    old_box = SecretBox(old_key)
    brand, tenant = uuid.uuid4(), uuid.uuid4()
    ids = [uuid.uuid4() for _ in range(3)]
    async with UnitOfWork(pg_pool, scratch_schema, brand_id=brand) as uow:
        for i, endpoint_id in enumerate(ids):
            await SqlEndpoints(uow.conn).insert(
                endpoint_id,
                brand,
                tenant,
                f"https://example.com/{i}",
                "",
                [],
                old_box.seal(f"whsec_{i}", str(endpoint_id)),
            )
        # One endpoint is in its 24 h overlap: a previous secret, under the old key too.
        await uow.conn.execute(
            "UPDATE webhook_endpoints SET previous_secret_sealed = $2, previous_secret_key_id = $3 WHERE id = $1",
            ids[0],
            old_box.seal("whsec_prev", str(ids[0])).blob,
            "old",
        )

    rotated_box = SecretBox(new_key, [old_key])
    units = Opens(SqlUnitOfWork, SimpleNamespace(pool=pg_pool, schema=scratch_schema))
    report = await rotate_keys(units, rotated_box)
    assert (report.endpoints, report.unreadable, report.left_behind) == (3, 0, 0)
    assert (await rotate_keys(units, rotated_box)).endpoints == 0  # nothing left to do

    only_new = SecretBox(new_key)  # the old key is retired
    async with UnitOfWork(pg_pool, scratch_schema, brand_id=brand) as uow:
        for i, endpoint_id in enumerate(ids):
            current, previous, _ = await SqlEndpoints(uow.conn).secrets(endpoint_id)
            assert current.key_id == "new" and only_new.open(current, str(endpoint_id)) == f"whsec_{i}"
            if i == 0:
                assert previous.key_id == "new" and only_new.open(previous, str(endpoint_id)) == "whsec_prev"
    with pytest.raises(SecretBoxError):
        only_new.open(old_box.seal("x", "e"), "e")
