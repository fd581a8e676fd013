"""Producers and consumers agree through schemas/: every file is a valid JSON Schema, every
message the AsyncAPI document names exists, and real envelopes validate against them."""

import json
import uuid
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from aligned_common.envelope import new_event
from aligned_common.events.connections import PostFailed
from aligned_common.events.publishing import AttemptRequested, MediaRef
from aligned_common.events.registry import EVENT_TYPES, topic_of

pytestmark = pytest.mark.unit

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def load(rel: str) -> dict:
    return json.loads((SCHEMAS / rel).read_text())


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_event_schema_is_valid_and_names_its_topic_and_version(event_type):
    schema = load(f"events/{event_type}.json")
    Draft202012Validator.check_schema(schema)
    assert schema["x-topic"] == topic_of(event_type)
    assert schema["x-schema-version"] == EVENT_TYPES[event_type].schema_version()


def test_asyncapi_names_every_event_with_an_existing_payload_schema():
    document = load("asyncapi.json")
    assert document["asyncapi"].startswith("3.")
    messages = document["components"]["messages"]
    assert {m["name"] for m in messages.values()} == set(EVENT_TYPES)
    for message in messages.values():
        assert (SCHEMAS / message["payload"]["$ref"]).exists()
    addresses = {c["address"] for c in document["channels"].values()}
    assert {topic_of(t) for t in EVENT_TYPES} | {f"{topic_of(t)}.dlq" for t in EVENT_TYPES} <= addresses


def test_a_produced_envelope_validates_against_the_envelope_and_data_schemas():
    data = AttemptRequested(
        job_id=uuid.uuid4(),
        target_id=uuid.uuid4(),
        platform="sandbox",
        connection_id=uuid.uuid4(),
        idempotency_key="job-1:target-1",
        attempt=1,
        text="hello",
        media=[MediaRef(media_id=uuid.uuid4(), url="file:///m.png", mime_type="image/png", size_bytes=10)],
    )
    wire = json.loads(new_event(data, brand_id=uuid.uuid4(), tenant_id=uuid.uuid4()).to_bytes())
    Draft202012Validator(load("envelope.json")).validate(wire)
    Draft202012Validator(load("events/publishing.attempt_requested.json")).validate(wire["data"])


def test_the_data_schema_refuses_what_a_consumer_could_not_read():
    validator = Draft202012Validator(load("events/connections.post_failed.json"))
    good = json.loads(
        PostFailed(
            job_id=uuid.uuid4(),
            target_id=uuid.uuid4(),
            connection_id=uuid.uuid4(),
            platform="sandbox",
            idempotency_key="k" * 8,
            attempt=1,
            retryable=False,
            reason="rejected",
        ).model_dump_json()
    )
    validator.validate(good)
    assert not validator.is_valid({**good, "reason": "because"})
    assert not validator.is_valid({k: v for k, v in good.items() if k != "retryable"})
