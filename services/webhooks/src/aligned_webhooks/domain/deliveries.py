"""A delivery of one domain event to one endpoint, as a delivery try sees it once claimed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from aligned_common.keyring import Sealed

__all__ = ["ClaimedDelivery", "Sealed"]


@dataclass(frozen=True)
class ClaimedDelivery:
    id: uuid.UUID
    brand_id: uuid.UUID
    tenant_id: uuid.UUID
    endpoint_id: uuid.UUID
    url: str
    event_id: uuid.UUID
    payload: bytes
    attempts: int
    round_attempts: int
    secret: Sealed
    previous_secret: Sealed | None
    previous_secret_expires_at: datetime | None
