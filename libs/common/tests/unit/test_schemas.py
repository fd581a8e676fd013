"""The checked-in schemas/ match the models, and breaking changes are refused."""

from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field

from aligned_common import schemas
from aligned_common.events.base import EventData
from aligned_common.events.registry import EVENT_TYPES

pytestmark = pytest.mark.unit

CHECKED_IN = Path(__file__).resolve().parents[4] / "schemas"


def test_checked_in_schemas_match_the_models():
    assert schemas.drift(CHECKED_IN) == [], "schemas/ drifted from the models: run `make schemas`"


def test_checked_in_schemas_are_compatible_with_the_models():
    assert schemas.compatibility_report(CHECKED_IN) == []


def test_drift_is_detected_when_a_model_changes(tmp_path):
    schemas.write(tmp_path)
    assert schemas.drift(tmp_path) == []

    class JobCancelled(EventData):  # same type, one more optional field
        event_type_name = "publishing.job_cancelled"
        job_id: str
        reason: str | None = None
        cancelled_by: str | None = None

    changed = {**EVENT_TYPES, "publishing.job_cancelled": JobCancelled}
    assert schemas.drift(tmp_path, changed) == ["events/publishing.job_cancelled.json"]


def _models_with(model: type[EventData]) -> dict[str, type[EventData]]:
    return {**EVENT_TYPES, model.event_type(): model}


@pytest.fixture
def written(tmp_path) -> Path:
    schemas.write(tmp_path)
    return tmp_path


def test_removing_a_required_field_is_breaking_unless_the_version_is_raised(written):
    class PostFailed(EventData):  # dropped `reason`
        event_type_name = "connections.post_failed"
        job_id: str
        target_id: str
        connection_id: str
        platform: str
        idempotency_key: str
        attempt: int
        retryable: bool

    problems = schemas.compatibility_report(written, _models_with(PostFailed))
    assert any("removed required field reason" in p for p in problems)

    class PostFailedV2(PostFailed):
        version = 2

    assert schemas.compatibility_report(written, _models_with(PostFailedV2)) == []


def test_retyping_and_narrowing_an_enum_are_breaking(written):
    class PostFailed(EventData):
        event_type_name = "connections.post_failed"
        job_id: str
        target_id: str
        connection_id: str
        platform: str
        idempotency_key: str
        attempt: str  # was an integer
        retryable: bool
        reason: Literal["retryable", "rejected"]  # lost values
        retry_after_s: float | None = None
        platform_message: str | None = None

    problems = schemas.compatibility_report(written, _models_with(PostFailed))
    assert any("retyped field attempt" in p for p in problems)
    assert any("narrowed enum reason" in p for p in problems)
    with pytest.raises(SystemExit, match="breaking changes"):
        schemas.write(written, _models_with(PostFailed))


def test_adding_an_optional_field_or_widening_an_enum_is_compatible(written):
    class GoalReached(EventData):
        event_type_name = "analytics.goal_reached"
        goal_id: str
        metric: str
        target: float
        value: float
        period_start: str = Field(json_schema_extra={"format": "date"})
        period_end: str = Field(json_schema_extra={"format": "date"})
        note: str | None = None

    assert schemas.compatibility_report(written, _models_with(GoalReached)) == []
