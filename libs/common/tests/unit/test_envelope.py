import uuid
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from aligned_common.envelope import EventEnvelope, new_event
from aligned_common.events.approval import Approved
from aligned_common.events.publishing import AttemptRequested
from aligned_common.events.registry import EVENT_TYPES, UnknownEventType, data_model_for, dlq_of, topic_of

pytestmark = pytest.mark.unit

BRAND, TENANT = uuid.uuid4(), uuid.uuid4()


def test_envelope_round_trips_through_bytes_with_typed_payload():
    data = Approved(approval_id=uuid.uuid4(), job_id=uuid.uuid4(), round=2, decided_by="u1", comment="ok")
    envelope = new_event(data, brand_id=BRAND, tenant_id=TENANT, subject=str(data.job_id))

    decoded = EventEnvelope.from_bytes(envelope.to_bytes())

    assert decoded == envelope
    assert (
        decoded.type == "approval.approved" and decoded.source == "approval" and decoded.schema_version == 1
    )
    assert decoded.payload() == data


def test_time_is_stored_in_utc_and_naive_time_is_refused():
    berlin = timezone(timedelta(hours=1))
    envelope = EventEnvelope(
        type="approval.approved",
        source="approval",
        brand_id=BRAND,
        tenant_id=TENANT,
        schema_version=1,
        time=datetime(2026, 3, 29, 9, 0, tzinfo=berlin),
        data={},
    )
    assert envelope.time.utcoffset() == timedelta(0) and envelope.time.hour == 8
    with pytest.raises(ValidationError):
        EventEnvelope(
            type="approval.approved",
            source="approval",
            brand_id=BRAND,
            tenant_id=TENANT,
            schema_version=1,
            time=datetime(2026, 3, 29, 9, 0),
            data={},
        )


def test_payload_of_a_bad_event_is_a_validation_error_not_a_crash():
    envelope = EventEnvelope(
        type="publishing.attempt_requested",
        source="publishing",
        brand_id=BRAND,
        tenant_id=TENANT,
        schema_version=1,
        data={"job_id": "not-a-uuid"},
    )
    with pytest.raises(ValidationError):
        envelope.payload()


def test_registry_knows_every_flow_event_and_its_topic():
    for needed in [
        "publishing.job_created",
        "approval.approved",
        "approval.escalated",
        "publishing.attempt_requested",
        "connections.post_published",
        "connections.post_failed",
        "publishing.job_published",
        "publishing.job_failed",
        "connections.connection_expired",
        "connections.connection_revoked",
        "analytics.sync_requested",
        "connections.metrics_fetched",
        "analytics.goal_reached",
        "webhooks.received",
    ]:
        assert needed in EVENT_TYPES
    assert data_model_for("publishing.attempt_requested") is AttemptRequested
    assert topic_of("publishing.attempt_requested") == "aligned.publishing.events"
    assert dlq_of("aligned.publishing.events") == "aligned.publishing.events.dlq"
    with pytest.raises(UnknownEventType):
        data_model_for("publishing.nope")
