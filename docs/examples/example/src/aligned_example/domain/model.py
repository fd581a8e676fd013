"""Plain models and their rules: no I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

NEW_FOR = timedelta(days=7)


@dataclass(frozen=True)
class Brand:
    brand_id: uuid.UUID
    name: str
    named_at: datetime

    def named(self, name: str, at: datetime) -> Brand:
        # Events can arrive out of order (a replay, a redelivery): an older name never wins.
        return self if at <= self.named_at else replace(self, name=name, named_at=at)

    def welcome(self, now: datetime) -> str:
        return f"Welcome to {self.name}" if now - self.named_at < NEW_FOR else f"Welcome back to {self.name}"
