"""The one envelope every domain event travels in (CloudEvents-like).

The envelope is what goes on the wire; `data` is validated against the model the
registry holds for `type`, so a consumer gets a typed payload or a clear error.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from aligned_common.events.base import EventData

if TYPE_CHECKING:
    from aligned_common.identity import Identity, Origin


class Actor(BaseModel):
    """Who caused the event and from where: the request through the gateway that did it, as the
    gateway verified and signed it (identity.Origin), never guessed later. None for what a
    service did on its own (a timer, a reaction to another event)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    user_id: str | None = None
    role: str | None = None
    email: str | None = None
    ip: str | None = Field(default=None, description="The client's address, as the gateway determined it")
    user_agent: str | None = None

    @classmethod
    def of(cls, identity: Identity | None, origin: Origin | None) -> Actor:
        return cls(
            user_id=identity.user_id if identity else None,
            role=identity.role if identity else None,
            email=origin.email if origin else None,
            ip=origin.client_ip if origin else None,
            user_agent=origin.user_agent if origin else None,
        )


# The actor of the request being handled. Set by the identity check (identity.current_identity,
# current_origin) and read by new_event, like the trace context. Every request runs in its own
# task (the server's, and the app's BaseHTTPMiddleware), so a value never outlives its request;
# consumers and loops never set it, so what they emit has no actor.
_actor: ContextVar[Actor | None] = ContextVar("aligned_actor", default=None)


def acting_as(actor: Actor | None) -> None:
    _actor.set(actor)


def current_actor() -> Actor | None:
    return _actor.get()


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
    actor: Actor | None = Field(
        default=None, description="Who caused it, from where (a request through the gateway)"
    )
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
    actor: Actor | None = None,
) -> EventEnvelope:
    """Wrap a data model in an envelope; type, source and version come from the model; the
    trace context and the actor from the request being handled, unless given."""
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
        actor=actor or current_actor(),
        data=data.model_dump(mode="json"),
    )
