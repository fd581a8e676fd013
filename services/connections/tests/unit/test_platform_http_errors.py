"""How every HTTP outcome becomes one typed error, whatever the platform."""

import email.utils

import httpx
import pytest
from pydantic import BaseModel

from aligned_connections.adapters.platforms import (
    AuthFailure,
    PlatformError,
    Rejected,
    Retryable,
    UnknownOutcome,
)
from aligned_connections.adapters.platforms.http import PlatformHttp, retry_after_s

pytestmark = pytest.mark.unit

NOW = 1_700_000_000.0


class _Created(BaseModel):
    id: str


def platform_http(answer) -> PlatformHttp:
    def handle(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    return PlatformHttp("testplatform", httpx.AsyncClient(transport=httpx.MockTransport(handle)))


async def send(answer, *, creates: bool = False) -> httpx.Response:
    return await platform_http(answer).request("POST", "http://platform.test/things", creates=creates)


@pytest.mark.parametrize(
    "failure", [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.PoolTimeout("busy")]
)
async def test_a_request_that_never_left_is_retryable_even_for_a_write(failure):
    with pytest.raises(Retryable):
        await send(failure, creates=True)


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout("lost"), httpx.WriteTimeout("half"), httpx.RemoteProtocolError("dropped")]
)
async def test_a_lost_answer_to_a_write_is_an_unknown_outcome(failure):
    with pytest.raises(UnknownOutcome):
        await send(failure, creates=True)


async def test_a_lost_answer_to_a_read_is_retryable():
    with pytest.raises(Retryable):
        await send(httpx.ReadTimeout("lost"), creates=False)


async def test_a_gateway_timeout_on_a_write_is_an_unknown_outcome_but_on_a_read_retryable():
    with pytest.raises(UnknownOutcome):
        await send(httpx.Response(504), creates=True)
    with pytest.raises(Retryable):
        await send(httpx.Response(504), creates=False)


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
async def test_server_errors_and_throttling_are_retryable(status):
    with pytest.raises(Retryable) as raised:
        await send(httpx.Response(status, headers={"Retry-After": "12"}))
    assert (raised.value.status_code, raised.value.retry_after) == (status, 12)


async def test_401_and_invalid_grant_are_auth_failures_keeping_the_platforms_words():
    with pytest.raises(AuthFailure) as raised:
        await send(httpx.Response(400, json={"error": "invalid_grant", "error_description": "code expired"}))
    assert raised.value.platform_message == "invalid_grant: code expired"
    with pytest.raises(AuthFailure):
        await send(httpx.Response(401, json={"error": "The access token is invalid"}))


@pytest.mark.parametrize("status", [400, 403, 404, 422])
async def test_other_client_errors_are_rejections(status):
    with pytest.raises(Rejected) as raised:
        await send(httpx.Response(status, json={"error": "InvalidRequest", "message": "text too long"}))
    assert raised.value.platform_message == "InvalidRequest: text too long"
    assert raised.value.platform == "testplatform"


async def test_a_non_json_error_keeps_its_text():
    with pytest.raises(Rejected) as raised:
        await send(httpx.Response(400, text="<html>Bad Request</html>"))
    assert raised.value.platform_message == "<html>Bad Request</html>"


async def test_tolerated_statuses_are_left_to_the_caller():
    http = platform_http(httpx.Response(404))
    response = await http.request("GET", "http://platform.test/things/1", tolerate={404})
    assert response.status_code == 404


async def test_an_unreadable_success_of_a_write_is_an_unknown_outcome():
    http = platform_http(httpx.Response(200, json={"unexpected": True}))
    response = await http.request("POST", "http://platform.test/things", creates=True)
    with pytest.raises(UnknownOutcome):
        http.parse(response, _Created, creates=True)
    with pytest.raises(PlatformError):
        http.parse(response, _Created)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "30"}, 30),
        ({"Retry-After": email.utils.formatdate(NOW + 45, usegmt=True)}, 45),
        ({"RateLimit-Reset": str(int(NOW + 60))}, 60),  # Bluesky: epoch seconds
        ({"X-RateLimit-Reset": "2023-11-14T22:15:00.000Z"}, 100),  # Mastodon: ISO time
        ({"RateLimit-Reset": "5"}, 5),  # IETF draft: a delay
        ({}, None),
    ],
)
def test_retry_after_understands_each_platforms_header(headers, expected):
    assert retry_after_s(httpx.Response(429, headers=headers), now=lambda: NOW) == expected
