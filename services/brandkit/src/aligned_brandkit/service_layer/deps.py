"""The service's one dependencies object: built once in bootstrap.build(), given to routes
(through `dependency(Deps)`), consumers and loops alike."""

from __future__ import annotations

from dataclasses import dataclass

from aligned_brandkit.config import Settings
from aligned_brandkit.service_layer.ports import Units
from aligned_common.clock import Clock


@dataclass(frozen=True)
class Deps:
    settings: Settings
    uow: Units  # opens units of work: Opens(SqlUnitOfWork, database); the unit tests' fakes
    clock: Clock  # where "now" comes from: tests pass a clock they move
