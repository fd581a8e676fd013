"""CSV import of posts (issue 24), through the gateway: a dry run reports each row (valid, or
its problems naming the column) and creates nothing; the real run creates a draft per valid row
and reports the rest; the same file again creates nothing twice; another brand's connection is
refused per row; `submit=true` sends each post through approval where a policy requires it; a
file that is not CSV, or too large, is a problem naming what is wrong."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from aligned_testing.flows import create_job, onboard_brand, put_policy
from aligned_testing.gateway_client import BrandSetup, Gateway, SandboxControl, eventually

pytestmark = pytest.mark.e2e


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


async def _import(api: Gateway, data: bytes, **params: str) -> dict:
    response = await api.send_bytes("/v1/imports", data, "text/csv", params=params or None)
    assert response.status_code == 200, response.text
    return response.json()


async def _imported(api: Gateway, marker: str) -> list[dict]:
    return [j for j in (await api.get("/v1/jobs", q=marker))["items"] if "csv-import" in j["tags"]]


async def test_a_csv_file_becomes_drafts_once_with_a_report_per_row(
    api: Gateway, brand: BrandSetup, sandbox: SandboxControl
) -> None:
    owner = brand.owner.api
    other = await onboard_brand(api, sandbox.base_url, label="other")
    mine = brand.connection_id
    await create_job(owner, {"content": "known", "targets": [{"platform": "sandbox", "connection_id": mine}]})
    marker = f"csv{uuid.uuid4().hex[:8]}"
    later = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0, tzinfo=None).isoformat()
    data = _csv(
        "text,targets,scheduled_at,time_zone,tags,first_comment",
        f"{marker} one,{mine},{later},America/New_York,{marker},comment one",
        f"{marker} theirs,{other.connection_id},,,,",
        f"{marker} when,{mine},next tuesday,,,",
        f"{marker} two,{mine},,,,",
    )

    dry = await _import(owner, data, dry_run="true")
    assert [(r["row"], r["status"]) for r in dry["rows"]] == [
        (2, "valid"),
        (3, "invalid"),
        (4, "invalid"),
        (5, "valid"),
    ]
    assert [p["column"] for p in dry["rows"][1]["problems"]] == ["targets"]
    assert [p["column"] for p in dry["rows"][2]["problems"]] == ["scheduled_at"]
    assert await _imported(owner, marker) == []

    done = await _import(owner, data)
    assert (done["created"], done["invalid"], done["already_imported"]) == (2, 2, 0)
    again = await _import(owner, data)
    assert (again["created"], again["already_imported"]) == (0, 2)
    assert [r["job_id"] for r in again["rows"]] == [r["job_id"] for r in done["rows"]]

    jobs = await _imported(owner, marker)
    assert sorted(j["content"] for j in jobs) == [f"{marker} one", f"{marker} two"]
    (timed,) = [j for j in jobs if j["scheduled_at"]]
    assert timed["status"] == "draft" and timed["time_zone"] == "America/New_York"
    assert await _imported(other.owner.api, marker) == []  # the other brand sees none of it


async def test_submit_goes_through_approval_and_bad_files_are_problems(
    api: Gateway, brand: BrandSetup
) -> None:
    owner = brand.owner.api
    mine = brand.connection_id
    await put_policy(owner, {"connection_id": mine, "mode": "approval_required"})
    marker = f"gate{uuid.uuid4().hex[:8]}"
    later = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0).isoformat()

    async def gated():  # once publishing's copy of the policy has it
        probe = await create_job(
            owner, {"content": "probe", "targets": [{"platform": "sandbox", "connection_id": mine}]}
        )
        return probe["approval_required"] or None

    await eventually(gated, timeout_s=60, what="the policy in publishing's copy")
    report = await _import(
        owner, _csv("text,targets,scheduled_at", f"{marker},{mine},{later}"), submit="true"
    )
    (job,) = await _imported(owner, marker)
    assert job["job_id"] == report["rows"][0]["job_id"] and job["status"] == "pending_approval"

    unknown = await owner.send_bytes("/v1/imports", _csv("text,targets,colour", "a,b,c"), "text/csv")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "colour"
    huge = await owner.send_bytes("/v1/imports", b"text,targets\n" + b"x" * (8 * 1024**2 + 1), "text/csv")
    assert huge.status_code == 413 and huge.headers["content-type"].startswith("application/problem+json")
