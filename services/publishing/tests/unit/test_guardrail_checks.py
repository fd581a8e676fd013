"""The brand kit's guardrails in the job commands, on the in-memory fakes: a `block` rule
refuses create, edit and submit with a 422 naming the field, the rule and the span; a `warn`
rule is kept on the job and carried to approvers in the round."""

from __future__ import annotations

import uuid

import pytest

from aligned_common.guardrails import BannedTerm, CountLimit, Disclosure, GuardrailRules
from aligned_common.identity import Identity
from aligned_publishing.domain.commands import CreateJob, EditJob, TargetIn
from aligned_publishing.domain.errors import Invalid
from aligned_publishing.service_layer import jobs
from aligned_testing.clock import StillClock

from .fakes import NOW, Store, fake_deps

pytestmark = pytest.mark.unit

BRAND, TENANT = uuid.uuid4(), uuid.uuid4()
EDITOR = Identity(TENANT, BRAND, "ed", "editor")
RULES = GuardrailRules(
    banned_terms=[BannedTerm(term="cheap"), BannedTerm(term="guaranteed", level="warn")],
    hashtag_limit=CountLimit(max=1, level="warn"),
)


@pytest.fixture
def store() -> Store:
    store = Store()
    store.guardrails[BRAND] = (1, RULES)
    return store


@pytest.fixture
def deps(store):
    return fake_deps(store, StillClock(NOW))


def connect(store: Store, platform: str = "sandbox") -> uuid.UUID:
    connection_id = uuid.uuid4()
    store.connections[connection_id] = {"brand_id": BRAND, "platform": platform, "status": "active"}
    return connection_id


async def test_a_banned_term_in_a_targets_own_text_is_refused_naming_field_rule_and_span(deps, store):
    conn = connect(store)
    body = CreateJob(
        content="fine", targets=[TargetIn(platform="sandbox", connection_id=conn, text="So CHEAP")]
    )
    with pytest.raises(Invalid) as refused:
        await jobs.create_job(deps, EDITOR, body)
    (error,) = refused.value.extra["errors"]
    assert error["field"] == "targets[0].text" and error["rule"] == "banned_term:cheap"
    assert (error["start"], error["end"]) == (3, 8)
    assert store.jobs == {}


async def test_warnings_are_kept_on_the_job_and_reach_the_approval_round(deps, store):
    conn = connect(store)
    body = CreateJob(
        content="Results guaranteed #one #two",
        requires_approval=True,
        targets=[TargetIn(platform="sandbox", connection_id=conn)],
    )
    job_id = await jobs.create_job(deps, EDITOR, body)
    assert {w["rule"] for w in store.guardrail_warnings[job_id]} == {
        "banned_term:guaranteed",
        "hashtag_limit",
    }
    assert all(w["field"] == "content" for w in store.guardrail_warnings[job_id])
    await jobs.submit_job(deps, EDITOR, job_id)
    (created,) = [e for e in store.events if e.type == "publishing.job_created"]
    rules = {w["rule"] for w in created.data["targets"][0]["warnings"]}
    assert rules == {"banned_term:guaranteed", "hashtag_limit"}


async def test_an_edit_into_a_banned_term_is_refused_and_the_job_keeps_its_text(deps, store):
    conn = connect(store)
    job_id = await jobs.create_job(
        deps, EDITOR, CreateJob(content="nice", targets=[TargetIn(platform="sandbox", connection_id=conn)])
    )
    with pytest.raises(Invalid):
        await jobs.edit_job(deps, EDITOR, job_id, EditJob(content="cheap deals"))
    assert store.job(job_id).content == "nice"


async def test_submit_asks_the_kit_again_a_rule_added_since_the_draft_refuses_it(deps, store):
    conn = connect(store)
    body = CreateJob(
        content="Our partner's shoes",
        tags=["sponsored"],
        targets=[TargetIn(platform="sandbox", connection_id=conn)],
    )
    job_id = await jobs.create_job(deps, EDITOR, body)
    store.guardrails[BRAND] = (
        2,
        GuardrailRules(required_disclosures=[Disclosure(text="#ad", when_tag="sponsored")]),
    )
    with pytest.raises(Invalid) as refused:
        await jobs.submit_job(deps, EDITOR, job_id)
    (error,) = refused.value.extra["errors"]
    assert error["rule"] == "required_disclosure:#ad" and error["start"] == error["end"] == len(body.content)
    assert store.job(job_id).status == "draft"


async def test_a_brand_without_a_kit_is_not_checked(deps, store):
    store.guardrails.clear()
    conn = connect(store)
    body = CreateJob(content="cheap", targets=[TargetIn(platform="sandbox", connection_id=conn)])
    assert await jobs.create_job(deps, EDITOR, body)
