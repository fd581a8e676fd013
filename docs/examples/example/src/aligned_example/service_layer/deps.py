"""The service's one dependencies object: built once in bootstrap.build(), given to routes
(through `dependency(Deps)`), consumers and loops alike."""

from __future__ import annotations

from dataclasses import dataclass

from aligned_common.app import Database
from aligned_common.clock import Clock
from aligned_example.config import Settings


@dataclass(frozen=True)
class Deps:
    settings: Settings
    database: Database
    clock: Clock  # where "now" comes from: tests pass a clock they move
