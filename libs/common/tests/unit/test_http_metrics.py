"""Every service's HTTP requests are counted and timed by route template and status, in
Prometheus' naming (`_total`, `_seconds`); probes and scrapes are not counted."""

import uuid

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from aligned_common.app import ServiceDefinition, create_app
from aligned_common.settings import ServiceSettings

pytestmark = pytest.mark.unit


def test_requests_are_counted_by_route_template_and_status():
    router = APIRouter()

    @router.get("/things/{thing_id}")
    async def get_thing(thing_id: uuid.UUID) -> dict[str, str]:
        return {"id": str(thing_id)}

    settings = ServiceSettings(database_url="postgresql://x:x@127.0.0.1:1/x", kafka_bootstrap="127.0.0.1:1")
    client = TestClient(
        create_app(ServiceDefinition(name="metricstest", settings=settings, http_router=router))
    )
    for _ in range(3):
        assert client.get(f"/things/{uuid.uuid4()}").status_code == 200
    assert client.get("/things/not-a-uuid").status_code == 422
    client.get("/healthz")

    text = client.get("/metrics").text
    lines = [line for line in text.splitlines() if line.startswith("http_requests_total{")]
    by_status = {
        line.split('status="')[1].split('"')[0]: float(line.rsplit(" ", 1)[1])
        for line in lines
        if 'handler="/things/{thing_id}"' in line
    }
    assert by_status["2xx"] >= 3 and by_status["4xx"] >= 1
    assert "http_request_duration_seconds_bucket{" in text
    assert not [line for line in lines if 'handler="/healthz"' in line or 'handler="/metrics"' in line]
    assert not [line for line in lines if "not-a-uuid" in line]  # ids never become label values
