"""First comments on the real broker and database: requested as their own attempt (own key,
replying to the post) only once the post is recorded published, retried on failure, recorded
once however often the answer is delivered, and shown on the job's read."""

import pytest

from aligned_common.events.connections import PostFailed, PostPublished
from aligned_testing.kafka_reader import TopicReader
from aligned_testing.publishing import events_of, job_body

pytestmark = pytest.mark.integration
TOPIC = "aligned.publishing.events"


def _answer(attempt_event, remote_id: str) -> PostPublished:
    data = attempt_event["data"]
    return PostPublished(
        job_id=data["job_id"],
        target_id=data["target_id"],
        connection_id=data["connection_id"],
        platform=data["platform"],
        idempotency_key=data["idempotency_key"],
        attempt=data["attempt"],
        remote_id=remote_id,
        url=f"https://sandbox.example/p/{remote_id}",
    )


def _attempts(records, brand) -> list[dict]:
    return events_of(records, brand, "publishing.attempt_requested")


async def _read(client, brand, job_id) -> dict:
    return (await client.get(f"/v1/jobs/{job_id}", headers=brand.headers)).json()


async def test_the_comment_follows_the_post_as_a_reply_with_its_own_key_and_is_recorded_once(
    svc, brand, infra
):
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:
        body = job_body(brand.sandbox, first_comment="the link: https://example.com")
        job = (await client.post("/v1/jobs", headers=brand.headers, json=body)).json()
        assert job["targets"][0]["first_comment"]["status"] == "waiting"
        await client.post(f"/v1/jobs/{job['job_id']}/publish-now", headers=brand.headers)

        records = await topic.read_until(lambda rs: _attempts(rs, brand), settle_s=0.5)
        assert len(_attempts(records, brand)) == 1, "no comment before its post is out"
        post = _attempts(records, brand)[0]
        await brand.send(_answer(post, "remote-post"))

        records = await topic.read_until(lambda rs: len(_attempts(rs, brand)) >= 2, settle_s=0)
        comment = _attempts(records, brand)[1]
        answer = _answer(comment, "remote-comment")
        await brand.send(answer)
        await brand.send(answer)  # a redelivery changes nothing

        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.job_published"), settle_s=1.0
        )
        detail = await _read(client, brand, job["job_id"])

    data = comment["data"]
    assert data["text"] == "the link: https://example.com"
    assert data["reply_to"] == {"parent_remote_id": "remote-post", "root_remote_id": "remote-post"}
    assert data["idempotency_key"] == post["data"]["idempotency_key"] + ":comment"
    assert (data["target_id"], data["attempt"]) == (post["data"]["target_id"], 1)
    assert len(_attempts(records, brand)) == 2
    target = detail["targets"][0]
    assert (target["status"], target["remote_id"]) == ("published", "remote-post")
    assert {k: target["first_comment"][k] for k in ("status", "remote_id", "url", "attempts")} == {
        "status": "published",
        "remote_id": "remote-comment",
        "url": "https://sandbox.example/p/remote-comment",
        "attempts": 1,
    }


async def test_a_failed_comment_is_retried_under_its_own_key_and_then_shows_why_it_gave_up(svc, brand, infra):
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:
        body = job_body(brand.sandbox, first_comment="more", max_retries=1)
        job = (await client.post("/v1/jobs", headers=brand.headers, json=body)).json()
        await client.post(f"/v1/jobs/{job['job_id']}/publish-now", headers=brand.headers)
        records = await topic.read_until(lambda rs: _attempts(rs, brand), settle_s=0)
        await brand.send(_answer(_attempts(records, brand)[0], "remote-post"))

        for n in (2, 3):  # the comment's attempt 1, then its retry
            records = await topic.read_until(lambda rs, n=n: len(_attempts(rs, brand)) >= n, settle_s=0)
            data = _attempts(records, brand)[-1]["data"]
            await brand.send(
                PostFailed(
                    **{
                        k: data[k]
                        for k in ("job_id", "target_id", "connection_id", "platform", "idempotency_key")
                    },
                    attempt=data["attempt"],
                    retryable=True,
                    reason="retryable",
                    platform_message="503 busy",
                )
            )
        records = await topic.read_until(lambda rs: len(_attempts(rs, brand)) >= 3, settle_s=1.0)
        detail = await _read(client, brand, job["job_id"])

    comment_attempts = [e["data"] for e in _attempts(records, brand)[1:]]
    assert [(a["attempt"], a["idempotency_key"].endswith(":comment")) for a in comment_attempts] == [
        (1, True),
        (2, True),
    ]
    assert detail["status"] == "published", "the post went out; the comment's fate is its own"
    comment = detail["targets"][0]["first_comment"]
    assert comment["status"] == "failed" and "gave up after 2 attempts" in comment["last_error"]
