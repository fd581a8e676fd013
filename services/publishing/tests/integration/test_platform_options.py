"""A target's platform_options on the real database and broker: stored, shown on the job, and
carried (as strings) in the dispatcher's attempt_requested, which the event model parses."""

import pytest

from aligned_common.events.publishing import AttemptRequested
from aligned_testing.kafka_reader import TopicReader
from aligned_testing.publishing import events_of, job_body

pytestmark = pytest.mark.integration


async def test_options_go_out_in_the_attempt_as_the_adapters_read_them(svc, brand, infra):
    options = {"visibility": "unlisted", "sensitive": True}
    target = {"platform": "sandbox", "connection_id": str(brand.sandbox), "platform_options": options}
    async with (
        svc.client() as client,
        TopicReader(infra.kafka_bootstrap, "aligned.publishing.events") as topic,
    ):
        created = await client.post(
            "/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox, targets=[target])
        )
        assert created.status_code == 201, created.text
        job = created.json()
        assert job["targets"][0]["platform_options"] == options
        await client.post(f"/v1/jobs/{job['job_id']}/publish-now", headers=brand.headers)
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.attempt_requested"), settle_s=0
        )
    data = events_of(records, brand, "publishing.attempt_requested")[0]["data"]
    assert AttemptRequested.model_validate(data).platform_options == {
        "visibility": "unlisted",
        "sensitive": "true",
    }


async def test_a_target_without_options_sends_none(svc, brand, infra):
    async with (
        svc.client() as client,
        TopicReader(infra.kafka_bootstrap, "aligned.publishing.events") as topic,
    ):
        job = (await client.post("/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox))).json()
        assert job["targets"][0]["platform_options"] is None
        await client.post(f"/v1/jobs/{job['job_id']}/publish-now", headers=brand.headers)
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.attempt_requested"), settle_s=0
        )
    assert events_of(records, brand, "publishing.attempt_requested")[0]["data"]["platform_options"] == {}


async def test_an_option_the_platform_does_not_take_is_a_422_naming_it(svc, brand):
    target = {
        "platform": "sandbox",
        "connection_id": str(brand.sandbox),
        "platform_options": {"colour": "red"},
    }
    async with svc.client() as client:
        refused = await client.post(
            "/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox, targets=[target])
        )
    assert refused.status_code == 422, refused.text
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("targets[0].platform_options.colour", "unknown_option")
    ]
