"""The gateway against hostile or unlucky requests: the path it checks is the path it
forwards, bodies are bounded while they stream in, every error is problem+json with the
request id, and an Idempotency-Key never lets a request be applied twice."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from aligned_testing.gateway import new_brand, raw_request, running_gateway, start_app
from aligned_testing.service import free_port

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


async def test_traversals_are_refused_and_the_forwarded_path_is_the_matched_one(gateway, stubs):
    async with gateway.client() as client:
        owner = await new_brand(client)
    before = stubs.states["approval"].calls + stubs.states["publishing"].calls
    for target in (
        "/review/../metrics",
        "/review/%2e%2e/openapi.json",
        "/v1/jobs/..%2fmetrics",
        "/review/%252e%252e/metrics",
        "/review/..;/metrics",
        "//metrics",
        "/review\\..\\metrics",
    ):
        answer = await raw_request(gateway.base_url, "GET", target)
        assert answer.status == 400, (target, answer.status, answer.body)
        assert answer.headers["content-type"] == "application/problem+json"
        assert (
            answer.json()["title"] == "Bad path"
            and answer.json()["request_id"] == answer.headers["x-request-id"]
        )
    # A control character in a segment is a 400, not a 500 from the HTTP client.
    answer = await raw_request(gateway.base_url, "DELETE", "/v1/connections/%C3%8D%C3%BD~%12", owner.headers)
    assert answer.status == 400, answer.body
    assert (
        stubs.states["approval"].calls + stubs.states["publishing"].calls == before
    )  # nothing was forwarded
    # A decoded '?' or '#' stays inside its segment on the way upstream.
    answer = await raw_request(gateway.base_url, "GET", "/v1/jobs/x/a%3Fb%23c%20d?limit=5", owner.headers)
    assert answer.status == 200, answer.body
    assert answer.json()["path"] == "v1/jobs/x/a?b#c d"


async def test_every_error_is_problem_json_with_the_request_id(gateway, stubs, monkeypatch):
    async with gateway.client() as client:
        owner = await new_brand(client)
        not_allowed = await client.put("/openapi.json")
        assert not_allowed.status_code == 405 and not_allowed.headers["allow"] == "GET"
        unknown = await client.get("/nowhere")
        for answer in (not_allowed, unknown):
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["request_id"] == answer.headers["x-request-id"]
        assert unknown.status_code == 404

        class Broken:
            async def my_brands(self, *args):
                raise RuntimeError("a bug")

        monkeypatch.setattr(gateway.deps, "admin", Broken())
        monkeypatch.setattr(
            "aligned_gateway.service_layer.admin.my_brands", lambda admin, claims: admin.my_brands(claims)
        )
        crashed = await client.get("/v1/me/brands", headers={**owner.headers, "X-Request-Id": "crash-1"})
        assert crashed.status_code == 500
        assert crashed.headers["content-type"] == "application/problem+json"
        assert crashed.json()["request_id"] == "crash-1" == crashed.headers["x-request-id"]
        assert "a bug" not in crashed.text


async def test_bodies_are_bounded_while_they_stream_in(gateway, stubs):
    async with gateway.client() as client:
        owner = await new_brand(client)
        calls = stubs.states["publishing"].calls, stubs.states["webhooks"].calls
        big = b'{"content": "' + b"x" * (2 * MIB) + b'"}'
        json_headers = {**owner.headers, "Content-Type": "application/json"}
        declared = await client.post("/v1/jobs", content=big, headers=json_headers)

        async def chunks():  # no Content-Length: counted as it arrives
            for start in range(0, len(big), 64 * 1024):
                yield big[start : start + 64 * 1024]

        streamed = await client.post("/v1/jobs", content=chunks(), headers=json_headers)
        with_key = await client.post(
            "/v1/jobs", content=chunks(), headers={**json_headers, "Idempotency-Key": uuid.uuid4().hex}
        )
        anonymous = await client.post(
            "/webhooks/sandbox", content=chunks(), headers={"Content-Type": "application/json"}
        )
        for answer in (declared, streamed, with_key, anonymous):
            assert answer.status_code == 413, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
        assert (
            stubs.states["publishing"].calls,
            stubs.states["webhooks"].calls,
        ) == calls  # nothing reached them
        # Just under the limit passes; media uploads have their own, larger class.
        small = await client.post(
            "/v1/jobs", content=b'{"c": "' + b"x" * (MIB - 100) + b'"}', headers=json_headers
        )
        assert small.status_code == 201, small.text
        media = await client.post("/v1/media", content=big, headers=json_headers)
        assert media.status_code == 200, media.text


def _committing_upstream(records: list[dict], *, sleep_s: float = 0.0, status: int = 201) -> FastAPI:
    """A service that applies the request (records it), then is slow or fails to answer."""
    app = FastAPI()

    @app.post("/v1/jobs")
    async def create(request: Request) -> JSONResponse:
        records.append(await request.json())
        await asyncio.sleep(sleep_s)
        return JSONResponse({"job_id": str(uuid.uuid4())}, status_code=status)

    return app


async def test_a_service_crash_reaches_the_client_as_problem_json(infra, topics, scratch_schema, stubs):
    crashing = FastAPI()

    @crashing.get("/v1/jobs")
    async def crash() -> None:
        raise RuntimeError("a bug in the service")

    upstream = await start_app(crashing)
    try:
        async with (
            running_gateway(
                scratch_schema, **{**stubs.urls(), "publishing_url": upstream.base_url}
            ) as gateway,
            gateway.client() as client,
        ):
            owner = await new_brand(client)
            answer = await client.get("/v1/jobs", headers={**owner.headers, "X-Request-Id": "svc-crash"})
    finally:
        await upstream.stop()
    assert answer.status_code == 500 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["request_id"] == "svc-crash" and "publishing" in answer.json()["detail"]


@pytest.mark.parametrize("failure", ["timeout", "server_error"])
async def test_a_retry_after_an_upstream_failure_never_makes_a_second_job(
    infra, topics, scratch_schema, stubs, failure
):
    records: list[dict] = []
    upstream = await start_app(
        _committing_upstream(
            records, sleep_s=2.5 if failure == "timeout" else 0, status=201 if failure == "timeout" else 500
        )
    )
    try:
        settings = {**stubs.urls(), "publishing_url": upstream.base_url, "upstream_timeout_s": 1.0}
        async with running_gateway(scratch_schema, **settings) as gateway, gateway.client() as client:
            owner = await new_brand(client)
            headers = {**owner.headers, "Idempotency-Key": uuid.uuid4().hex}
            first = await client.post("/v1/jobs", json={"content": "once"}, headers=headers)
            assert first.status_code == (504 if failure == "timeout" else 500), first.text
            retries = [await client.post("/v1/jobs", json={"content": "once"}, headers=headers)]
            await asyncio.sleep(2.0)  # the slow upstream has answered by now, to nobody
            retries.append(await client.post("/v1/jobs", json={"content": "once"}, headers=headers))
            for retry in retries:
                assert retry.status_code == 409, retry.text
                assert retry.headers["content-type"] == "application/problem+json"
                assert retry.json()["title"] == "Request outcome unknown"
            # A new key is a deliberate second attempt.
            again = await client.post(
                "/v1/jobs",
                json={"content": "once"},
                headers={**owner.headers, "Idempotency-Key": uuid.uuid4().hex},
            )
            assert again.status_code == first.status_code
    finally:
        await upstream.stop()
    assert len(records) == 2  # the first request and the one with a new key: never the retries


async def test_a_request_that_reached_no_service_frees_its_key(infra, topics, scratch_schema, stubs):
    settings = {**stubs.urls(), "publishing_url": f"http://127.0.0.1:{free_port()}"}  # nobody listens
    async with running_gateway(scratch_schema, **settings) as gateway, gateway.client() as client:
        owner = await new_brand(client)
        headers = {**owner.headers, "Idempotency-Key": uuid.uuid4().hex}
        answers = [await client.post("/v1/jobs", json={"content": "x"}, headers=headers) for _ in range(2)]
    assert [a.status_code for a in answers] == [503, 503], [a.text for a in answers]
