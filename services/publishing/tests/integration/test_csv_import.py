"""CSV import on the real PostgreSQL: a dry run creates nothing, the real run writes each valid
row's draft (targets, per-account text, tags, time in its zone) and the re-upload, and the same
file twice at once, create nothing twice; another brand's connection is refused per row; submit
goes through the gate; a body over the limit is refused with 413."""

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest

from aligned_testing.media import png
from aligned_testing.publishing import Brand, make_settings

pytestmark = pytest.mark.integration


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


async def _import(client, brand, data: bytes, **params) -> dict:
    response = await client.post(
        "/v1/imports",
        headers=brand.headers | {"content-type": "text/csv"},
        params={k: str(v).lower() for k, v in params.items()},
        content=data,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _imported(client, brand) -> list[dict]:
    listed = await client.get("/v1/jobs", headers=brand.headers, params={"limit": 200})
    return [j for j in listed.json()["items"] if "csv-import" in j["tags"]]


async def test_an_import_creates_each_valid_row_once_even_twice_at_once(svc, brand, producer):
    other = Brand(producer)
    theirs = await other.connect(svc)
    mastodon = await brand.connect(svc, "mastodon")
    later = (svc.clock.now() + timedelta(days=3)).replace(microsecond=0, tzinfo=None).isoformat()
    data = _csv(
        "text,targets,text:mastodon,scheduled_at,time_zone,tags,first_comment",
        f'hello,{brand.sandbox};{mastodon},hi fediverse,{later},Europe/Berlin,"spring;a""b\\c,{{d}}",see the link',
        f"not ours,{theirs},,,,,",
        f"a draft,{brand.sandbox},,,,,",
    )
    async with svc.client() as client:
        dry = await _import(client, brand, data, dry_run=True)
        assert [r["status"] for r in dry["rows"]] == ["valid", "invalid", "valid"]
        assert dry["rows"][1]["problems"][0]["column"] == "targets"
        assert await _imported(client, brand) == []

        first, second = await asyncio.gather(_import(client, brand, data), _import(client, brand, data))
        statuses = sorted([r["status"] for r in first["rows"] + second["rows"] if r["status"] != "invalid"])
        assert statuses == ["already_imported", "already_imported", "created", "created"]
        again = await _import(client, brand, data)
        assert (again["created"], again["already_imported"], again["invalid"]) == (0, 2, 1)

        jobs = await _imported(client, brand)
        assert len(jobs) == 2 and {j["job_id"] for j in jobs} == {
            r["job_id"] for r in again["rows"] if r["job_id"]
        }
        (scheduled,) = [j for j in jobs if j["content"] == "hello"]
        assert scheduled["status"] == "draft" and scheduled["time_zone"] == "Europe/Berlin"
        assert scheduled["tags"] == ["csv-import", "spring", 'a"b\\c,{d}']  # quoted into the array intact
        at = datetime.fromisoformat(scheduled["scheduled_at"])
        assert at.replace(tzinfo=None) != datetime.fromisoformat(later)  # Berlin's time, stored as UTC
        texts = {t["connection_id"]: t.get("text") for t in scheduled["targets"]}
        assert texts[str(mastodon)] == "hi fediverse"

        # The other brand cannot see, or re-create, this brand's import.
        assert await _imported(client, other) == []


async def test_submit_schedules_or_asks_for_approval_and_a_huge_file_is_refused(svc, brand):
    later = (svc.clock.now() + timedelta(days=3)).replace(microsecond=0).isoformat()
    data = _csv(
        "text,targets,scheduled_at,requires_approval",
        f"go {uuid.uuid4()},{brand.sandbox},{later},false",
        f"ask,{brand.sandbox},{later},true",
    )
    async with svc.client() as client:
        report = await _import(client, brand, data, submit=True)
        assert report["created"] == 2
        by_id = {j["job_id"]: j for j in await _imported(client, brand)}
        go, ask = (by_id[r["job_id"]] for r in report["rows"])
        assert go["status"] == "scheduled" and ask["status"] == "pending_approval"

        huge = b"text,targets\n" + b"x" * (make_settings().import_max_bytes + 1)
        response = await client.post(
            "/v1/imports", headers=brand.headers | {"content-type": "text/csv"}, content=huge
        )
        assert response.status_code == 413 and response.headers["content-type"].startswith(
            "application/problem+json"
        )


async def test_a_rows_media_is_attached_and_counted_as_used(svc, brand):
    async with svc.client() as client:
        uploaded = await client.post(
            "/v1/media", headers=brand.headers, files={"file": ("photo.png", png(1024), "image/png")}
        )
        assert uploaded.status_code == 201, uploaded.text
        media_id = uploaded.json()["media_id"]
        report = await _import(
            client, brand, _csv("text,targets,media_ids", f"with a photo,{brand.sandbox},{media_id}")
        )
        (row,) = report["rows"]
        assert row["status"] == "created", row
        job = (await client.get(f"/v1/jobs/{row['job_id']}", headers=brand.headers)).json()
        assert job["media_ids"] == [media_id]
        usage = (await client.get(f"/v1/media/{media_id}/usage", headers=brand.headers)).json()
        assert [(u["job_id"], u["action"]) for u in usage] == [(row["job_id"], "attached")]
        in_use = await client.delete(f"/v1/media/{media_id}", headers=brand.headers)
        assert in_use.status_code == 409  # the imported draft uses it
