"""Secret rotation on the in-memory fakes: the new secret signs at once, the old one also signs
until the overlap ends, then only the new one does; and the service layer's refusals."""

import uuid
from datetime import timedelta

import pytest

from aligned_common.identity import Identity
from aligned_common.problems import problem_of
from aligned_webhooks.domain import errors
from aligned_webhooks.service_layer import endpoints
from aligned_webhooks.service_layer.delivery import signing_secrets

pytestmark = pytest.mark.unit


def owner_of(endpoint) -> Identity:
    return Identity(endpoint.tenant_id, endpoint.brand_id, "user-1", "owner")


async def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(world):
    endpoint = await world.endpoint()
    old = await endpoints.reveal_secret(world.deps, owner_of(endpoint), endpoint.id)
    rotated, new = await endpoints.rotate_secret(world.deps, owner_of(endpoint), endpoint.id)
    assert new != old and await endpoints.reveal_secret(world.deps, owner_of(endpoint), endpoint.id) == new
    overlap = world.deps.settings.secret_rotation_overlap_s
    assert (rotated.previous_secret_expires_at - world.clock.now()).total_seconds() == overlap

    delivery = await world.claimed(endpoint)
    assert signing_secrets(delivery, world.deps.box, world.clock.now()) == [new, old]
    world.clock.advance(timedelta(seconds=overlap - 1))
    assert signing_secrets(delivery, world.deps.box, world.clock.now()) == [new, old]
    world.clock.advance(timedelta(seconds=1))
    assert signing_secrets(delivery, world.deps.box, world.clock.now()) == [new]


async def test_a_second_rotation_keeps_only_the_secret_it_replaced(world):
    endpoint = await world.endpoint()
    _, first = await endpoints.rotate_secret(world.deps, owner_of(endpoint), endpoint.id)
    _, second = await endpoints.rotate_secret(world.deps, owner_of(endpoint), endpoint.id)
    delivery = await world.claimed(endpoint)
    assert signing_secrets(delivery, world.deps.box, world.clock.now()) == [second, first]


async def test_an_endpoint_of_another_brand_is_not_found(world):
    endpoint = await world.endpoint()
    stranger = Identity(uuid.uuid4(), uuid.uuid4(), "user-2", "owner")
    with pytest.raises(errors.EndpointNotFound):
        await endpoints.rotate_secret(world.deps, stranger, endpoint.id)
    with pytest.raises(errors.EndpointNotFound):
        await endpoints.get(world.deps, stranger, endpoint.id)


async def test_a_replay_of_a_pending_delivery_is_refused_and_of_a_finished_one_wakes_the_loop(world):
    endpoint = await world.endpoint()
    delivery = await world.claimed(endpoint)
    with pytest.raises(errors.DeliveryStillPending):
        await endpoints.replay_delivery(world.deps, owner_of(endpoint), delivery.id)
    with pytest.raises(errors.DeliveryNotFound):
        await endpoints.replay_delivery(world.deps, owner_of(endpoint), uuid.uuid4())
    world.store.deliveries[delivery.id]["status"] = "failed"
    await endpoints.replay_delivery(world.deps, owner_of(endpoint), delivery.id)
    assert world.store.deliveries[delivery.id]["status"] == "pending" and world.store.wakes == 1


@pytest.mark.parametrize(
    "error,status,title",
    [
        (errors.EndpointNotFound("x"), 404, "Endpoint not found"),
        (errors.DeliveryNotFound("x"), 404, "Delivery not found"),
        (errors.DeliveryStillPending("x"), 409, "Delivery still pending"),
    ],
)
def test_each_domain_error_is_its_problem(error, status, title):
    problem = problem_of(error)
    assert (problem.status, problem.title, problem.detail) == (status, title, "x")


def test_a_refused_url_is_a_validation_problem_of_the_field():
    problem = problem_of(errors.RefusedUrl("loopback address"))
    assert (problem.status, problem.title) == (422, "Invalid request")
    assert problem.extra == {"errors": [{"field": "url", "message": "loopback address"}]}
