"""Our replies to items: pending until connections says sent or failed (no I/O)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ReplyStatus = Literal["pending", "sent", "failed"]


@dataclass(frozen=True)
class Reply:
    id: uuid.UUID
    brand_id: uuid.UUID
    item_id: uuid.UUID
    text: str
    template_id: uuid.UUID | None
    idempotency_key: str
    status: ReplyStatus
    remote_id: str | None
    error: str | None
    requested_by: str | None
    created_at: datetime
    settled_at: datetime | None = None
