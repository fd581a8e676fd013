"""What a verified access token says about its bearer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Claims:
    subject: str  # the user id (sub)
    tenant_id: uuid.UUID
    brand_ids: tuple[uuid.UUID, ...]  # `brand_id` or `brands` claim
    role: str | None  # the role the identity provider asserts; membership decides (see auth.py)
    email: str | None = None
    expires_at: float | None = None  # exp, seconds since the epoch: an open stream ends then

    def brand_for(self, requested: uuid.UUID | None) -> uuid.UUID | None:
        """The brand this request acts on: the one asked for (X-Brand-Id) if the token names
        it, or the token's only brand."""
        if requested is not None:
            return requested if requested in self.brand_ids else None
        return self.brand_ids[0] if len(self.brand_ids) == 1 else None
