"""The analytics service's one dependencies object: built once by bootstrap.build(), handed to
routes (`Service`), consumers and loops alike."""

from __future__ import annotations

from dataclasses import dataclass

from aligned_analytics.config import Settings
from aligned_analytics.service_layer.ports import UnitsOfWork
from aligned_common.app import Database
from aligned_common.clock import Clock


@dataclass(frozen=True)
class Deps:
    settings: Settings
    database: Database
    uows: UnitsOfWork  # on the primary
    replica: UnitsOfWork  # on the read replica (the primary when none is configured)
    clock: Clock
