"""The inbox router's handler names: declared, stable, unique (the dedupe record depends on them)."""

import pytest

from aligned_common.events.approval import Approved, Rejected
from aligned_common.events.publishing import JobCancelled
from aligned_common.inbox import EventRouter

pytestmark = pytest.mark.unit


async def handle(uow, envelope, data) -> None:
    pass


def test_the_recorded_name_is_the_declared_one_not_the_functions():
    router = EventRouter(service="svc")
    router.on(Approved, name="count_approval")(handle)
    assert router.routes[Approved.event_type()].name == "svc.count_approval"


def test_one_declaration_covers_several_event_types_under_one_name():
    router = EventRouter(service="svc")
    router.on(Approved, Rejected, name="decisions")(handle)
    assert {t: r.name for t, r in router.routes.items()} == {
        Approved.event_type(): "svc.decisions",
        Rejected.event_type(): "svc.decisions",
    }


def test_a_route_without_a_name_fails_when_the_router_is_built():
    router = EventRouter(service="svc")
    with pytest.raises(TypeError):
        router.on(Approved)(handle)  # name is a required keyword
    for blank in ("", "  "):
        with pytest.raises(ValueError, match="stable handler name"):
            router.on(Approved, name=blank)
    assert router.routes == {}


def test_a_name_declared_twice_fails_even_for_other_event_types_or_functions():
    router = EventRouter(service="svc")
    router.on(Approved, name="count")(handle)

    async def other(uow, envelope, data) -> None:
        pass

    with pytest.raises(ValueError, match="declared twice"):
        router.on(JobCancelled, name="count")(other)
    assert list(router.routes) == [Approved.event_type()]


def test_an_event_type_routed_twice_still_fails():
    router = EventRouter(service="svc")
    router.on(Approved, name="first")(handle)
    with pytest.raises(ValueError, match="already has a handler"):
        router.on(Approved, name="second")(handle)
