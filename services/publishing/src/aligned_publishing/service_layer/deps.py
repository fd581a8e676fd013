"""What the handlers of this service need besides a unit of work (built once in bootstrap)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from aligned_common.clock import Clock
from aligned_publishing.adapters.object_store import ObjectStore
from aligned_publishing.config import Settings


@dataclass
class Deps:
    settings: Settings
    clock: Clock
    storage: ObjectStore
    schema: str = "publishing"
    pool: asyncpg.Pool | None = None  # set when the service starts
