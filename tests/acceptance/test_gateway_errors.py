"""No 5xx from bad input at the gateway, and every error a client gets is problem+json with
the request id; bodies are bounded at the gateway before any service sees them."""

from __future__ import annotations

import httpx
import pytest

from aligned_testing.gateway import raw_request
from aligned_testing.gateway_client import BrandSetup, Gateway

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024


def _problem_with_request_id(response: httpx.Response) -> bool:
    return (
        response.headers.get("content-type") == "application/problem+json"
        and len(response.headers.get("x-request-id", "")) > 0
    )


async def test_bad_paths_and_methods_are_4xx_problems(api: Gateway, brand: BrandSetup) -> None:
    owner = {"Authorization": f"Bearer {brand.owner.api.token}"}
    # A control character in an id (schemathesis found this as a 500 on four routes).
    for method in ("GET", "DELETE"):
        answer = await raw_request(api.base_urls[0], method, "/v1/connections/%C3%8D%C3%BD~%12", owner)
        assert answer.status == 400 and answer.headers["content-type"] == "application/problem+json", (
            answer.body
        )
        assert answer.json()["request_id"] == answer.headers["x-request-id"]
    async with httpx.AsyncClient(base_url=api.base_urls[0], headers=owner, timeout=30) as client:
        unknown = await client.get("/v1/no-such-thing")
        assert unknown.status_code == 404 and _problem_with_request_id(unknown)
        assert unknown.json()["request_id"] == unknown.headers["x-request-id"]
        nowhere = await client.get("/no-such-page")
        assert nowhere.status_code == 404 and _problem_with_request_id(nowhere)
        # 405s name what is allowed: the gateway's own route, and a service's behind it.
        for method, path, allowed in (("DELETE", "/openapi.json", "GET"), ("PUT", "/v1/jobs", "POST")):
            refused = await client.request(method, path)
            assert refused.status_code == 405 and _problem_with_request_id(refused), (path, refused.text)
            assert allowed in refused.headers.get("allow", ""), (path, refused.headers)
        # A name that is not an id is still one segment: a 4xx from the service, never a 500.
        odd = await client.get("/v1/jobs/a%3Fb%23c")
        assert 400 <= odd.status_code < 500 and _problem_with_request_id(odd), odd.text


async def test_a_body_over_the_limit_is_refused_before_any_service_sees_it(
    api: Gateway, brand: BrandSetup
) -> None:
    owner = {"Authorization": f"Bearer {brand.owner.api.token}", "Content-Type": "application/json"}
    before = await brand.owner.api.get("/v1/jobs", limit=200)
    big = b'{"content": "' + b"x" * (2 * MIB) + b'", "targets": []}'

    async def streamed():  # no Content-Length: counted as it arrives
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    async with httpx.AsyncClient(base_url=api.base_urls[0], timeout=60) as client:
        answers = [
            await client.post("/v1/jobs", content=big, headers=owner),
            await client.post("/v1/jobs", content=streamed(), headers=owner),
            # Public routes: refused before any authentication (the platform's signature is not even looked at).
            await client.post("/webhooks/sandbox", content=big, headers={"Content-Type": "application/json"}),
            await client.post(
                "/webhooks/sandbox", content=streamed(), headers={"Content-Type": "application/json"}
            ),
        ]
    for answer in answers:
        assert answer.status_code == 413 and _problem_with_request_id(answer), answer.text[:300]
        assert answer.json()["title"] == "Request body too large"
    after = await brand.owner.api.get("/v1/jobs", limit=200)
    assert len(after["items"]) == len(before["items"])  # no job was made of it
