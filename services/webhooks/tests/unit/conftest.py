import pytest

from . import fakes


@pytest.fixture
def world() -> fakes.World:
    """The service's deps on in-memory fakes: no database, broker or receiver behind them."""
    return fakes.world()
