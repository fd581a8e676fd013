"""The path the gateway checks is the path it forwards: no spelling of a path reaches an
endpoint other than the one its permission was checked for, and the services' own
/metrics, /docs and /openapi.json are never reachable from outside.

Requests go out as raw bytes (aligned_testing.gateway.raw_request): httpx, like a browser,
would resolve the dot segments before sending and hide what a hostile client sends."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest

from aligned_testing.flows import draft_and_submit, pending_round
from aligned_testing.gateway import RawAnswer, raw_request
from aligned_testing.gateway_client import ApiError, BrandSetup, Gateway, add_member

pytestmark = pytest.mark.e2e

# (prefix, tail) -> a target that, read naively or by a server that decodes twice, is prefix/../tail.
TRAVERSALS = {
    "dot-dot": lambda p, t: f"{p}/../{t}",
    "encoded dot-dot": lambda p, t: f"{p}/%2e%2e/{t}",
    "upper-case encoded dot-dot": lambda p, t: f"{p}/%2E%2E/{t}",
    "half-encoded dot-dot": lambda p, t: f"{p}/.%2e/{t}",
    "dot": lambda p, t: f"{p}/./{t}",
    "double slash": lambda p, t: f"{p}//{t}",
    "encoded slash": lambda p, t: f"{p}/..%2f{t}",
    "encoded slashes": lambda p, t: f"{p}%2f..%2f{t}",
    "backslash": lambda p, t: f"{p}\\..\\{t}",
    "encoded backslash": lambda p, t: f"{p}/..%5c{t}",
    "dot-dot-semicolon": lambda p, t: f"{p}/..;/{t}",
    "double-encoded dot-dot": lambda p, t: f"{p}/%252e%252e/{t}",
    "double-encoded slash": lambda p, t: f"{p}/..%252f{t}",
}
INTERNAL = ("metrics", "docs", "openapi.json", "redoc", "healthz", "readyz")
PUBLIC_PREFIXES = (
    "/review",
    "/review/x",
    "/unsubscribe",
    "/unsubscribe/x",
    "/report",
    "/report/x",
    "/webhooks",
    "/webhooks/sandbox",
    "/v1",
    "/v1/jobs",
    "/v1/approvals/x",
)
_PARAM = re.compile(r"\{[^}]+\}")


def _bearer(member_api: Gateway) -> dict[str, str]:
    return {"Authorization": f"Bearer {member_api.token}"}


async def _all(api: Gateway, calls: list[tuple[str, str, dict[str, str]]]) -> list[RawAnswer]:
    gate = asyncio.Semaphore(8)

    async def one(method: str, target: str, headers: dict[str, str]) -> RawAnswer:
        async with gate:
            return await raw_request(api.base_urls[0], method, target, headers)

    return await asyncio.gather(*(one(*call) for call in calls))


def _refused_as_bad_path(answer: RawAnswer) -> bool:
    return (
        answer.status == 400
        and answer.headers.get("content-type") == "application/problem+json"
        and answer.json().get("title") == "Bad path"
    )


async def test_no_spelling_of_a_route_reaches_another_endpoint(api: Gateway, brand: BrandSetup) -> None:
    document = await api.get("/openapi.json")
    routes = [
        (method.upper(), _PARAM.sub(str(uuid.uuid4()), path))
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(routes) > 50, "the merged document lists the services' routes"
    calls = []
    for method, path in routes:
        head, _, last = path.rpartition("/")
        for spell in TRAVERSALS.values():
            # Climbing out of the route to a service's internals, and to a sibling through a detour.
            for target in (
                spell(path, "metrics"),
                spell(path, "openapi.json"),
                spell(f"{head}/{last}", last),
            ):
                calls.append((method, target, _bearer(brand.owner.api)))
    answers = await _all(api, calls)
    wrong = [
        (c[0], c[1], a.status, a.body[:120])
        for c, a in zip(calls, answers, strict=True)
        if not _refused_as_bad_path(a)
    ]
    assert not wrong, f"{len(wrong)} of {len(calls)} traversals were not refused, e.g. {wrong[:5]}"


async def test_the_services_internal_endpoints_are_unreachable_from_outside(api: Gateway) -> None:
    calls = []
    for prefix in PUBLIC_PREFIXES:
        for internal in INTERNAL:
            calls.append(("GET", f"{prefix}/{internal}", {}))
            calls += [("GET", spell(prefix, internal), {}) for spell in TRAVERSALS.values()]
    answers = await _all(api, calls)
    for (_, target, _), answer in zip(calls, answers, strict=True):
        assert 400 <= answer.status < 500, (target, answer.status, answer.body[:200])
        assert answer.headers.get("content-type") == "application/problem+json", (target, answer.headers)
        text = answer.body.decode(errors="replace")
        assert "# HELP" not in text and '"openapi"' not in text and "swagger" not in text.lower(), (
            target,
            text[:200],
        )
        if (
            ".." in target
            or "%2e" in target.lower()
            or "//" in target[1:]
            or "\\" in target
            or "%2f" in target.lower()
        ):
            assert _refused_as_bad_path(answer), (target, answer.status, answer.body[:200])


async def test_an_approver_cannot_reach_the_review_links_through_the_decision_route(
    brand: BrandSetup,
) -> None:
    approver = await add_member(
        brand,
        user_id=f"approver-{uuid.uuid4().hex[:8]}",
        email=f"approver-{uuid.uuid4().hex[:8]}@example.com",
        role="approver",
    )
    job = await draft_and_submit(
        brand.owner.api, brand.connection_id, text="Needs a decision", requires_approval=True
    )
    approval = await pending_round(approver, job["job_id"])
    with pytest.raises(ApiError) as direct:
        await approver.api.post(f"/v1/approvals/{approval['id']}/links", {})
    assert direct.value.status == 403  # managing review links is not the approver's
    headers = {**_bearer(approver.api), "Content-Type": "application/json"}
    for target in (
        f"/v1/approvals/{approval['id']}/decision/../links",
        f"/v1/approvals/{approval['id']}/decision/%2e%2e/links",
        f"/v1/approvals/{approval['id']}/decision/..%2flinks",
    ):
        answer = await raw_request(approver.api.base_urls[0], "POST", target, headers, body=b"{}")
        assert _refused_as_bad_path(answer), (target, answer.status, answer.body[:300])
    # The round is untouched: still pending, decided by nobody.
    rounds = (await brand.owner.api.get(f"/v1/jobs/{job['job_id']}/approvals"))["items"]
    assert [r["status"] for r in rounds if r["id"] == approval["id"]] == ["pending"]
