"""aligned-admin commands that act through a service's own HTTP API (here: publishing)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from aligned_common.identity import Identity, signed_headers

from .conftest import json_of

pytestmark = pytest.mark.integration

publishing_testing = pytest.importorskip(
    "aligned_testing.publishing", reason="the publishing service is not installed"
)


@pytest.fixture
async def publishing(infra, topics, scratch_schema):
    settings = publishing_testing.make_settings()
    async with publishing_testing.publishing_service(
        infra, scratch_schema, settings, publishing_testing.MovableClock()
    ) as svc:
        yield svc


async def test_redrive_releases_a_scheduled_job_now_as_the_brand_admin_and_show_reports_it(publishing, admin):
    tenant, brand = uuid.uuid4(), uuid.uuid4()
    headers = signed_headers(Identity(tenant, brand, "editor-1", "editor"))
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    connection = await publishing_testing.known_connection(publishing, brand)
    async with httpx.AsyncClient(base_url=publishing.base_url) as client:
        created = (
            await client.post(
                "/v1/jobs",
                headers=headers,
                json=publishing_testing.job_body(connection, requires_approval=False, scheduled_at=later),
            )
        ).json()
    flags = [
        "--tenant",
        str(tenant),
        "--brand",
        str(brand),
        "--url",
        publishing.base_url,
        "--job",
        created["job_id"],
    ]

    code, out = await admin("publishing", "show", *flags)
    before = json_of(out)
    assert code == 0 and before["job_id"] == created["job_id"]
    assert datetime.fromisoformat(before["scheduled_at"]) > datetime.now(UTC) + timedelta(days=2)

    code, out = await admin("publishing", "redrive", *flags)
    after = json_of(out)
    assert code == 0 and datetime.fromisoformat(after["scheduled_at"]) <= datetime.now(UTC)
    assert after["status"] != before["status"] or after["version"] > before["version"]

    other_brand = [
        "--tenant",
        str(tenant),
        "--brand",
        str(uuid.uuid4()),
        "--url",
        publishing.base_url,
        "--job",
        created["job_id"],
    ]
    with pytest.raises(Exception, match="404"):
        await admin("publishing", "show", *other_brand)


async def test_an_operator_reads_and_changes_a_brands_media_quota(publishing, admin):
    tenant, brand = uuid.uuid4(), uuid.uuid4()
    flags = ["--tenant", str(tenant), "--brand", str(brand), "--url", publishing.base_url]

    code, out = await admin("media", "quota", *flags)
    assert code == 0 and json_of(out) == {"quota_bytes": 5 * 1024**3, "used_bytes": 0, "assets": 0}
    code, out = await admin("media", "quota", *flags, "--set", "1000")
    assert code == 0 and json_of(out)["quota_bytes"] == 1000
    async with httpx.AsyncClient(base_url=publishing.base_url) as client:
        seen = (
            await client.get(
                "/v1/media-quota", headers=signed_headers(Identity(tenant, brand, "u", "editor"))
            )
        ).json()
    assert seen["quota_bytes"] == 1000, "the brand's own users see the operator's change"
