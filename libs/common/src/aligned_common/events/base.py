"""Base class of every event's data model.

Each subclass declares its wire type and schema version as class variables;
`schemas/` is generated from these models and checked for compatibility.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class EventData(BaseModel):
    # Tolerant reader: a consumer ignores fields added by a newer producer.
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type_name: ClassVar[str]
    version: ClassVar[int] = 1

    @classmethod
    def event_type(cls) -> str:
        return cls.event_type_name

    @classmethod
    def schema_version(cls) -> int:
        return cls.version

    @classmethod
    def source(cls) -> str:
        return cls.event_type_name.split(".", 1)[0]
