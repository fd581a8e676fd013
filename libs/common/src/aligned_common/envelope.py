"""The one envelope every domain event travels in (CloudEvents-like).

The envelope is what goes on the wire; `data` is validated against the model the
registry holds for `type`, so a consumer gets a typed payload or a clear error.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from aligned_common.events.base import EventData


class EventEnvelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str = Field(pattern=r"^[a-z]+\.[a-z_]+$", examples=["publishing.job_created"])
    source: str = Field(description="The service that produced the event")
    time: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    brand_id: uuid.UUID
    tenant_id: uuid.UUID
    schema_version: int = Field(ge=1)
    subject: str | None = Field(default=None, description="Id of the entity the event is about")
    traceparent: str | None = Field(default=None, description="W3C trace context of the producer")
    data: dict[str, Any]

    @field_validator("time")
    @classmethod
    def _as_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_bytes(cls, raw: bytes) -> EventEnvelope:
        return cls.model_validate_json(raw)

    def payload(self) -> EventData:
        """The typed data model of this event (raises UnknownEventType / ValidationError)."""
        from aligned_common.events.registry import data_model_for

        return data_model_for(self.type).model_validate(self.data)


def new_event(
    data: EventData,
    *,
    brand_id: uuid.UUID,
    tenant_id: uuid.UUID,
    subject: str | None = None,
    traceparent: str | None = None,
) -> EventEnvelope:
    """Wrap a data model in an envelope; type, source and version come from the model."""
    if traceparent is None:
        from aligned_common.telemetry import current_traceparent

        traceparent = current_traceparent()
    return EventEnvelope(
        type=data.event_type(),
        source=data.source(),
        brand_id=brand_id,
        tenant_id=tenant_id,
        schema_version=data.schema_version(),
        subject=subject,
        traceparent=traceparent,
        data=data.model_dump(mode="json"),
    )
