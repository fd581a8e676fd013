"""The handlers' rules with in-memory fakes: no database, no broker."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from aligned_common.errors import NotFound
from aligned_example.service_layer import handlers

from .fakes import FakeUnitOfWork

pytestmark = pytest.mark.unit

BRAND = uuid.uuid4()
T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def test_a_recorded_brand_is_welcomed_by_its_name_and_back_after_a_week():
    uow = FakeUnitOfWork()
    await handlers.record_brand(uow, BRAND, "Acme", T0)
    assert await handlers.welcome(uow, BRAND, T0 + timedelta(days=6)) == "Welcome to Acme"
    assert await handlers.welcome(uow, BRAND, T0 + timedelta(days=7)) == "Welcome back to Acme"


async def test_an_older_name_arriving_late_does_not_replace_a_newer_one():
    uow = FakeUnitOfWork()
    await handlers.record_brand(uow, BRAND, "Acme 2", T0 + timedelta(minutes=1))
    await handlers.record_brand(uow, BRAND, "Acme", T0)
    assert await handlers.welcome(uow, BRAND, T0) == "Welcome to Acme 2"


async def test_an_unknown_brand_is_not_found():
    with pytest.raises(NotFound, match="no brand_created"):  # the route answers it as a 404
        await handlers.welcome(FakeUnitOfWork(), uuid.uuid4(), T0)
