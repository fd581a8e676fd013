import uuid

import pytest

from aligned_common.identity import Identity, signed_headers, verify_headers
from aligned_common.problems import Problem

pytestmark = pytest.mark.unit

SECRET = b"test-secret"
WHO = Identity(uuid.uuid4(), uuid.uuid4(), "user-1", "editor")


def test_a_signed_identity_verifies():
    assert verify_headers(signed_headers(WHO, SECRET, now=1000), SECRET, now=1010) == WHO


@pytest.mark.parametrize("tamper", ["X-Aligned-Brand-Id", "X-Aligned-Role", "X-Aligned-User-Id"])
def test_changing_any_signed_value_is_refused(tamper):
    headers = signed_headers(WHO, SECRET, now=1000)
    headers[tamper] = str(uuid.uuid4()) if tamper.endswith("Id") else "owner"
    with pytest.raises(Problem) as refused:
        verify_headers(headers, SECRET, now=1000)
    assert refused.value.status == 401


def test_wrong_secret_missing_headers_and_stale_timestamps_are_refused():
    with pytest.raises(Problem, match="Unauthenticated"):
        verify_headers(signed_headers(WHO, b"other", now=1000), SECRET, now=1000)
    with pytest.raises(Problem):
        verify_headers({}, SECRET)
    with pytest.raises(Problem) as stale:
        verify_headers(signed_headers(WHO, SECRET, now=1000), SECRET, now=1000 + 301)
    assert stale.value.detail == "stale internal identity"


def test_every_one_character_change_of_the_signature_is_refused():
    headers = signed_headers(WHO, SECRET, now=1000)
    signature = headers["X-Aligned-Signature"]
    for i in range(len(signature)):
        for c in "0123456789abcdefABCDEF é":
            if c == signature[i]:
                continue
            tampered = dict(headers, **{"X-Aligned-Signature": signature[:i] + c + signature[i + 1 :]})
            with pytest.raises(Problem) as refused:
                verify_headers(tampered, SECRET, now=1000)
            assert refused.value.status == 401


def test_a_non_ascii_signature_is_a_401_not_a_crash():
    headers = signed_headers(WHO, SECRET, now=1000)
    headers["X-Aligned-Signature"] = "é" * 64
    with pytest.raises(Problem) as refused:
        verify_headers(headers, SECRET, now=1000)
    assert refused.value.status == 401


# -- bound signatures: method, path and query, target service, body, short lifetime -------------
from types import SimpleNamespace  # noqa: E402

import httpx  # noqa: E402
from fastapi import Depends, FastAPI, Request  # noqa: E402

from aligned_common.identity import (  # noqa: E402
    BOUND_MAX_AGE_S,
    RequestBinding,
    bind_request,
    bound_headers,
    current_identity,
)
from aligned_common.problems import install_problem_handlers  # noqa: E402

BINDING = RequestBinding.of("POST", "/v1/jobs/1/publish-now?force=1", "publishing", b'{"a":1}')


def test_a_bound_signature_verifies_only_for_its_request():
    headers = bound_headers(WHO, BINDING, SECRET, now=1000)
    assert verify_headers(headers, SECRET, now=1010, binding=BINDING, audience="publishing") == WHO
    others = [
        RequestBinding.of("DELETE", BINDING.target, "publishing", b'{"a":1}'),
        RequestBinding.of("POST", "/v1/jobs/2/publish-now?force=1", "publishing", b'{"a":1}'),
        RequestBinding.of("POST", "/v1/jobs/1/publish-now", "publishing", b'{"a":1}'),
        RequestBinding.of("POST", BINDING.target, "publishing", b'{"a":2}'),
        RequestBinding.of("POST", BINDING.target, "connections", b'{"a":1}'),
    ]
    for other in others:
        with pytest.raises(Problem) as refused:
            verify_headers(headers, SECRET, now=1010, binding=other, audience=other.audience)
        assert refused.value.status == 401, other


def test_a_bound_signature_is_for_one_service_and_lives_briefly():
    headers = bound_headers(WHO, BINDING, SECRET, now=1000)
    with pytest.raises(Problem, match="Unauthenticated") as other_service:
        verify_headers(headers, SECRET, now=1000, binding=BINDING, audience="connections")
    assert other_service.value.detail == "internal identity is for another service"
    with pytest.raises(Problem) as stale:
        verify_headers(
            headers, SECRET, now=1000 + BOUND_MAX_AGE_S + 1, binding=BINDING, audience="publishing"
        )
    assert stale.value.detail == "stale internal identity"
    with pytest.raises(Problem):
        verify_headers(headers, SECRET, now=1000, audience="publishing")  # no request to check it against


def test_an_unbound_signature_is_refused_where_binding_is_required():
    with pytest.raises(Problem) as refused:
        verify_headers(signed_headers(WHO, SECRET, now=1000), SECRET, now=1000, require_bound=True)
    assert refused.value.detail == "internal identity is not bound to the request"


def _service(require_bound: bool) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.ctx = SimpleNamespace(
        settings=SimpleNamespace(service_name="publishing", require_bound_identity=require_bound)
    )

    @app.api_route("/v1/jobs/{job_id}/publish-now", methods=["POST", "DELETE"])
    async def publish_now(
        job_id: str, request: Request, identity: Identity = Depends(current_identity)
    ) -> dict:
        return {"user": identity.user_id, "body": (await request.body()).decode()}

    return app


async def test_a_service_accepts_a_request_signed_for_itself_and_refuses_replays(monkeypatch):
    monkeypatch.setenv("ALIGNED_INTERNAL_SECRET", SECRET.decode())
    transport = httpx.ASGITransport(app=_service(require_bound=True))
    async with httpx.AsyncClient(transport=transport, base_url="http://publishing") as client:
        request = client.build_request(
            "POST",
            "/v1/jobs/1/publish-now",
            params={"force": "1"},
            content=b'{"a":1}',
            headers=signed_headers(WHO, SECRET),
        )
        bind_request(request, "publishing", SECRET)
        ok = await client.send(request)
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"user": "user-1", "body": '{"a":1}'}
        captured = {k: v for k, v in request.headers.items() if k.lower().startswith("x-aligned-")}

        replays = [
            client.build_request(
                "POST", "/v1/jobs/2/publish-now", params={"force": "1"}, content=b'{"a":1}', headers=captured
            ),
            client.build_request("DELETE", "/v1/jobs/1/publish-now", params={"force": "1"}, headers=captured),
            client.build_request(
                "POST", "/v1/jobs/1/publish-now", params={"force": "1"}, content=b'{"a":2}', headers=captured
            ),
            client.build_request("POST", "/v1/jobs/1/publish-now", content=b'{"a":1}', headers=captured),
        ]
        for replay in replays:
            assert (await client.send(replay)).status_code == 401, replay.url
        for_connections = client.build_request(
            "POST", "/v1/jobs/1/publish-now", content=b"{}", headers=signed_headers(WHO, SECRET)
        )
        bind_request(for_connections, "connections", SECRET)
        assert (await client.send(for_connections)).status_code == 401
        unbound = await client.post("/v1/jobs/1/publish-now", headers=signed_headers(WHO, SECRET))
        assert unbound.status_code == 401


async def test_an_empty_query_signs_like_no_query(monkeypatch):
    # httpx sends "/v1/jobs/1/publish-now?" for URL(..., query=b""), as the gateway builds it.
    monkeypatch.setenv("ALIGNED_INTERNAL_SECRET", SECRET.decode())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_service(require_bound=True)), base_url="http://p"
    ) as client:
        request = client.build_request(
            "POST",
            httpx.URL("http://p/v1/jobs/1/publish-now", query=b""),
            content=b"{}",
            headers=signed_headers(WHO, SECRET),
        )
        assert request.url.raw_path.endswith(b"?")
        bind_request(request, "publishing", SECRET)
        assert (await client.send(request)).status_code == 200


async def test_a_bound_signature_verifies_on_a_form_upload_whose_body_the_form_parser_read(monkeypatch):
    # FastAPI parses a form before it resolves dependencies, and a form's stream is read once:
    # the identity check takes the hash BodyDigest kept while the body streamed in.
    from fastapi import File, UploadFile

    from aligned_common.identity import BodyDigest

    monkeypatch.setenv("ALIGNED_INTERNAL_SECRET", SECRET.decode())
    app = _service(require_bound=True)

    @app.post("/v1/media")
    async def upload(file: UploadFile = File(...), identity: Identity = Depends(current_identity)) -> dict:
        return {"user": identity.user_id, "size": len(await file.read())}

    app.add_middleware(BodyDigest)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://publishing"
    ) as client:
        request = client.build_request(
            "POST",
            "/v1/media",
            files={"file": ("a.bin", b"x" * 100_000)},
            headers=signed_headers(WHO, SECRET),
        )
        bind_request(request, "publishing", SECRET)
        ok = await client.send(request)
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"user": "user-1", "size": 100_000}
        captured = {k: v for k, v in request.headers.items() if k.lower().startswith("x-aligned-")}
        other_file = client.build_request(
            "POST", "/v1/media", files={"file": ("a.bin", b"y" * 100_000)}, headers=captured
        )
        assert (await client.send(other_file)).status_code == 401


# -- the request's origin: the client's address and user agent, signed by the gateway -----------
from aligned_common.identity import Origin, RequestBinding, origin_header, verify_origin  # noqa: E402

BINDING = RequestBinding.of("PATCH", "/v1/jobs/1", "publishing", b'{"content": "x"}')
SEEN = Origin(client_ip="203.0.113.7", user_agent="Browser/1.0", email="ann@example.com")


def _signed_origin(origin: Origin = SEEN, binding: RequestBinding = BINDING, now: float = 1000):
    import httpx

    from aligned_common.identity import bind_request

    request = httpx.Request(
        binding.method,
        "http://svc" + binding.target,
        headers=origin_header(origin, now=now),
        content=b'{"content": "x"}',
    )
    bind_request(request, binding.audience, SECRET, now)
    return request.headers  # case-insensitive, as a service reads them


def test_a_signed_origin_verifies_for_its_request():
    assert verify_origin(_signed_origin(), BINDING, SECRET, now=1010) == SEEN
    assert verify_origin({}, BINDING, SECRET, now=1010) is None  # no origin sent: none recorded


@pytest.mark.parametrize(
    "other",
    [
        RequestBinding.of("PATCH", "/v1/jobs/2", "publishing", b'{"content": "x"}'),  # another route
        RequestBinding.of("PATCH", "/v1/jobs/1", "approval", b'{"content": "x"}'),  # another service
        RequestBinding.of("PATCH", "/v1/jobs/1", "publishing", b'{"content": "y"}'),  # another body
    ],
)
def test_an_origin_is_refused_on_any_other_request(other):
    with pytest.raises(Problem) as refused:
        verify_origin(_signed_origin(), other, SECRET, now=1010)
    assert refused.value.status == 401


def test_a_forged_or_stale_origin_is_refused():
    headers = _signed_origin()
    forged = headers.copy()
    forged.update(origin_header(Origin(client_ip="10.0.0.1", user_agent="Browser/1.0"), now=1000))
    with pytest.raises(Problem, match="Unauthenticated"):
        verify_origin(forged, BINDING, SECRET, now=1010)
    with pytest.raises(Problem) as stale:
        verify_origin(headers, BINDING, SECRET, now=1000 + 31)
    assert stale.value.detail == "stale request origin"
