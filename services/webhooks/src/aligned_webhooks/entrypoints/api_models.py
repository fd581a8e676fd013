"""Request and response bodies of the endpoints API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from aligned_webhooks.domain.deliverable import DELIVERABLE_EVENT_TYPES
from aligned_webhooks.domain.endpoints import Endpoint


def _known_types(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    unknown = sorted(set(value) - DELIVERABLE_EVENT_TYPES)
    if unknown:
        raise ValueError(f"not deliverable: {', '.join(unknown)}; see GET /v1/webhook-event-types")
    return sorted(set(value))


class CreateEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048, examples=["https://example.com/hooks/aligned"])
    description: str = Field(default="", max_length=500)
    event_types: list[str] = Field(default_factory=list, description="Empty: every deliverable event type")

    _types = field_validator("event_types")(_known_types)


class UpdateEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=2048)
    description: str | None = Field(default=None, max_length=500)
    event_types: list[str] | None = None
    enabled: bool | None = None

    _types = field_validator("event_types")(_known_types)


class EndpointOut(BaseModel):
    id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, endpoint: Endpoint) -> EndpointOut:
        return cls.model_validate(endpoint, from_attributes=True)


class EndpointWithSecret(EndpointOut):
    secret: str = Field(description="whsec_...: verify deliveries with it (Standard Webhooks)")


class SecretOut(BaseModel):
    secret: str


class DeliveryOut(BaseModel):
    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


class AttemptOut(BaseModel):
    attempt_number: int
    requested_at: datetime
    status_code: int | None
    latency_ms: float | None
    response_excerpt: str | None
    error: str | None


class ReplaySince(BaseModel):
    since: AwareDatetime


class Replayed(BaseModel):
    replayed: int
