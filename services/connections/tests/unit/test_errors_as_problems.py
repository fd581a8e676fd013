"""The service layer refuses in domain errors; the HTTP entrypoint turns each into its problem."""

import uuid

import pytest

from aligned_common.identity import Identity
from aligned_common.problems import problem_of
from aligned_connections.adapters.platforms import Retryable
from aligned_connections.domain import errors
from aligned_connections.domain.connection import Status
from aligned_connections.service_layer import connections

pytestmark = pytest.mark.unit


def caller(connection=None) -> Identity:
    brand_id = connection.brand_id if connection else uuid.uuid4()
    tenant_id = connection.tenant_id if connection else uuid.uuid4()
    return Identity(tenant_id, brand_id, "user-1", "owner")


async def test_refresh_now_refuses_in_domain_errors(world):
    with pytest.raises(errors.ConnectionNotFound):
        await connections.refresh_now(world.deps, caller(), uuid.uuid4())
    revoked = world.connect(status=Status.REVOKED)
    with pytest.raises(errors.ConnectionNotActive, match="revoked"):
        await connections.refresh_now(world.deps, caller(revoked), revoked.id)
    long_lived = world.connect(refresh_token=None)
    with pytest.raises(errors.NothingToRefresh):
        await connections.refresh_now(world.deps, caller(long_lived), long_lived.id)
    down = world.connect()
    world.platform.refresh_answers.append(Retryable("down", platform="sandbox", retry_after=7))
    with pytest.raises(errors.PlatformUnavailable) as raised:
        await connections.refresh_now(world.deps, caller(down), down.id)
    assert raised.value.retry_after_s == 7


async def test_a_connection_of_another_brand_is_not_found(world):
    connection = world.connect()
    with pytest.raises(errors.ConnectionNotFound):
        await connections.get(world.deps, caller(), connection.id)


def test_an_unknown_platform_is_a_domain_error(world):
    with pytest.raises(errors.UnknownPlatform, match="available: sandbox"):
        world.deps.platform("myspace")


@pytest.mark.parametrize(
    "error,status,title",
    [
        (errors.ConnectionNotFound("x"), 404, "Connection not found"),
        (errors.UnknownPlatform("x"), 404, "Unknown platform"),
        (errors.ConnectionNotActive("x"), 409, "Connection is not active"),
        (errors.NothingToRefresh("x"), 409, "Nothing to refresh"),
        (errors.InvalidOAuthState("x"), 400, "Invalid OAuth state"),
        (errors.AuthorizationRefused("x", "denied"), 400, "The platform refused the authorization"),
        (errors.WrongConnectFlow("x", redirect=True), 409, "This platform connects without a redirect"),
        (errors.WrongConnectFlow("x", redirect=False), 409, "This platform does not connect this way"),
        (errors.PlatformUnavailable("x", retry_after_s=9), 503, "The platform is unavailable"),
        (errors.PlatformAnsweredUnexpectedly("x"), 502, "The platform answered unexpectedly"),
    ],
)
def test_each_domain_error_is_its_problem(error, status, title):
    problem = problem_of(error)
    assert (problem.status, problem.title, problem.detail) == (status, title, "x")
    if isinstance(error, errors.PlatformUnavailable):
        assert problem.extra == {"retry_after": 9}
    if isinstance(error, errors.AuthorizationRefused):
        assert problem.extra == {"platform_message": "denied"}
