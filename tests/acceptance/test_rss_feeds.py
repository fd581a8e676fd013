"""RSS/Atom auto-posting (issue 24), through the gateway, against feeds the sandbox publishes: a
brand subscribes a feed, and an entry that appears in it becomes one draft with the templated
text; polls that follow (a 304, and a 200 with the same entries) make nothing twice; a scheduled
subscription's post goes through approval where the brand's policy says so; a feed that answers
garbage shows why on the subscription until it is a feed again; an address inside our network
is refused when subscribing; another brand's subscription is a 404."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from aligned_testing.flows import create_job, onboard_brand, put_policy, subscribe_feed
from aligned_testing.gateway_client import ApiError, BrandSetup, Gateway, SandboxControl, eventually

pytestmark = pytest.mark.e2e
WAIT_S = 60


def _name() -> str:
    return f"feed-{uuid.uuid4().hex[:10]}"


async def _subscription(owner: Gateway, feed_id: str, **wanted: Any) -> dict[str, Any] | None:
    feed = await owner.get(f"/v1/feed-subscriptions/{feed_id}")
    return feed if all(feed[k] == v for k, v in wanted.items()) else None


async def _posted(owner: Gateway, feed_id: str, count: int) -> list[dict[str, Any]] | None:
    entries = await owner.get(f"/v1/feed-subscriptions/{feed_id}/entries")
    return entries if sum(1 for e in entries if e["job_id"]) >= count else None


async def _served(sandbox: SandboxControl, name: str, answer: str, at_least: int) -> bool | None:
    return (await sandbox.feed_state(name))["requests"].get(answer, 0) >= at_least or None


async def test_a_new_entry_becomes_one_draft_and_later_polls_make_nothing_twice(
    brand: BrandSetup, sandbox: SandboxControl
) -> None:
    owner, name = brand.owner.api, _name()
    url = await sandbox.make_feed(name)
    await sandbox.publish_entry(name, guid="old-1", link="https://news.example/old", title="Old news")
    feed = await subscribe_feed(
        owner,
        {
            "url": url,
            "connection_ids": [brand.connection_id],
            "template": "New: {title} {link}",
            "interval_s": 1,
        },
    )
    assert feed["state"] == "new" and feed["mode"] == "draft"
    # The first poll records what was there already: no post from an old entry.
    await eventually(
        lambda: _subscription(owner, feed["feed_id"], state="ok"), timeout_s=WAIT_S, what="a first poll"
    )
    (old,) = await owner.get(f"/v1/feed-subscriptions/{feed['feed_id']}/entries")
    assert old["job_id"] is None and "before the subscription" in old["skipped"]

    await sandbox.publish_entry(
        name, guid="new-1", link="https://news.example/launch", title="We <b>launched</b>", summary="<p>x</p>"
    )
    entries = await eventually(lambda: _posted(owner, feed["feed_id"], 1), timeout_s=WAIT_S, what="the post")
    (new,) = [e for e in entries if e["job_id"]]
    job = await owner.get(f"/v1/jobs/{new['job_id']}")
    assert job["content"] == "New: We launched https://news.example/launch"
    assert job["status"] == "draft" and new["job_status"] == "draft" and "rss" in job["tags"]

    # Unchanged: the poller sends the ETag back and the feed answers 304 ...
    served = (await sandbox.feed_state(name))["requests"]
    await eventually(
        lambda: _served(sandbox, name, "304", served.get("304", 0) + 2), timeout_s=WAIT_S, what="304s"
    )
    # ... rebuilt with the same entries: a 200, and still nothing new.
    await sandbox.touch_feed(name)
    ok = (await sandbox.feed_state(name))["requests"]["200"]
    await eventually(lambda: _served(sandbox, name, "200", ok + 1), timeout_s=WAIT_S, what="a 200")
    entries = await owner.get(f"/v1/feed-subscriptions/{feed['feed_id']}/entries")
    assert len(entries) == 2 and [e["job_id"] for e in entries if e["job_id"]] == [new["job_id"]]
    jobs = await owner.get("/v1/jobs")  # a fresh brand: every job it has
    assert [j["job_id"] for j in jobs["items"]] == [new["job_id"]]


async def test_a_scheduled_subscription_goes_through_approval_where_the_policy_says_so(
    brand: BrandSetup, sandbox: SandboxControl
) -> None:
    owner, name = brand.owner.api, _name()
    await put_policy(owner, {"mode": "approval_required"})
    target = [{"platform": "sandbox", "connection_id": brand.connection_id}]

    async def policy_known() -> bool | None:  # publishing's copy of the policy arrives by event
        job = await create_job(owner, {"content": "probe", "targets": target})
        await owner.request("DELETE", f"/v1/jobs/{job['job_id']}")
        return job["approval_required"] or None

    await eventually(policy_known, timeout_s=WAIT_S, what="the policy in publishing")
    url = await sandbox.make_feed(name, format="atom")
    await sandbox.publish_entry(name, guid="urn:x:1", link="https://news.example/a", title="Atom entry")
    feed = await subscribe_feed(
        owner,
        {
            "url": url,
            "connection_ids": [brand.connection_id],
            "mode": "scheduled",
            "schedule_after_s": 7200,
            "post_existing": True,
            "interval_s": 1,
        },
    )
    (entry,) = await eventually(lambda: _posted(owner, feed["feed_id"], 1), timeout_s=WAIT_S, what="the post")
    job = await owner.get(f"/v1/jobs/{entry['job_id']}")
    assert job["status"] == "pending_approval" and job["approval_required"]
    assert job["scheduled_at"] is not None and job["content"] == "Atom entry https://news.example/a"


async def test_a_feed_answering_garbage_shows_why_until_it_is_a_feed_again(
    brand: BrandSetup, sandbox: SandboxControl
) -> None:
    owner, name = brand.owner.api, _name()
    url = await sandbox.make_feed(name)
    await sandbox.feed_answers(name, "garbage")
    feed = await subscribe_feed(owner, {"url": url, "connection_ids": [brand.connection_id], "interval_s": 1})
    broken = await eventually(
        lambda: _subscription(owner, feed["feed_id"], state="failing"), timeout_s=WAIT_S, what="the failure"
    )
    assert broken["last_error"].startswith("not an RSS or Atom feed") and broken["last_error_at"]
    assert broken["consecutive_failures"] >= 1
    await sandbox.feed_answers(name, "error", status=503)
    await eventually(
        lambda: _subscription(owner, feed["feed_id"], last_error="the feed answered HTTP 503"),
        timeout_s=WAIT_S,
        what="the HTTP error",
    )
    await sandbox.feed_answers(name, "huge")
    await eventually(
        lambda: _subscription(owner, feed["feed_id"], last_error="the feed is larger than 2097152 bytes"),
        timeout_s=WAIT_S,
        what="the size bound",
    )
    await sandbox.feed_answers(name, "feed")
    healed = await eventually(
        lambda: _subscription(owner, feed["feed_id"], state="ok"), timeout_s=WAIT_S, what="a good poll"
    )
    assert healed["last_error"] is None and healed["consecutive_failures"] == 0


async def _refusal(owner: Gateway, method: str, path: str, body: Any = None) -> ApiError:
    with pytest.raises(ApiError) as error:
        await owner.request(method, path, json_body=body, retry_for_s=0)
    return error.value


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://10.0.0.7/feed.xml", "private address"),
        ("https://169.254.169.254/latest/meta-data/", "link-local address"),
        ("https://[::ffff:192.168.1.1]/rss", "private address"),
        ("ftp://news.example/feed", "scheme must be"),
    ],
)
async def test_an_address_inside_our_network_is_refused_when_subscribing(
    brand: BrandSetup, url: str, why: str
) -> None:
    body = {"url": url, "connection_ids": [brand.connection_id]}
    error = await _refusal(brand.owner.api, "POST", "/v1/feed-subscriptions", body)
    assert error.status == 422
    (field,) = error.body["errors"]
    assert field["field"] == "url" and why in field["message"]


async def test_bad_templates_and_unknown_accounts_are_refused_naming_the_field(brand: BrandSetup) -> None:
    owner = brand.owner.api
    base = {"url": "https://93.184.215.14/feed", "connection_ids": [brand.connection_id]}
    error = await _refusal(owner, "POST", "/v1/feed-subscriptions", base | {"template": "{title} {body}"})
    assert error.status == 422 and error.body["errors"][0]["field"] == "template"
    error = await _refusal(
        owner, "POST", "/v1/feed-subscriptions", base | {"connection_ids": [str(uuid.uuid4())]}
    )
    assert error.status == 422 and error.body["errors"][0]["field"] == "connection_ids[0]"


async def test_another_brands_subscription_is_not_found(
    brand: BrandSetup, api: Gateway, sandbox: SandboxControl
) -> None:
    owner, name = brand.owner.api, _name()
    url = await sandbox.make_feed(name)
    feed = await subscribe_feed(owner, {"url": url, "connection_ids": [brand.connection_id]})
    stranger = (await onboard_brand(api, sandbox.base_url, label="stranger", connect=False)).owner.api
    assert await stranger.get("/v1/feed-subscriptions") == []
    for method, suffix, body in (
        ("GET", "", None),
        ("GET", "/entries", None),
        ("PATCH", "", {"paused": True}),
        ("DELETE", "", None),
    ):
        theirs = await _refusal(stranger, method, f"/v1/feed-subscriptions/{feed['feed_id']}{suffix}", body)
        missing = await _refusal(stranger, method, f"/v1/feed-subscriptions/{uuid.uuid4()}{suffix}", body)
        assert theirs.status == missing.status == 404
        assert theirs.body["title"] == missing.body["title"]
    mine = await owner.get(f"/v1/feed-subscriptions/{feed['feed_id']}")
    assert mine["paused"] is False
    paused = await owner.request(
        "PATCH", f"/v1/feed-subscriptions/{feed['feed_id']}", json_body={"paused": True}
    )
    assert paused["state"] == "paused"
    await owner.request("DELETE", f"/v1/feed-subscriptions/{feed['feed_id']}")
    gone = await _refusal(owner, "GET", f"/v1/feed-subscriptions/{feed['feed_id']}")
    assert gone.status == 404


async def test_the_gateways_openapi_documents_feed_subscriptions(api: Gateway) -> None:
    document = await api.get("/openapi.json")
    paths = document["paths"]
    assert {"post", "get"} <= set(paths["/v1/feed-subscriptions"])
    assert {"get", "patch", "delete"} <= set(paths["/v1/feed-subscriptions/{feed_id}"])
    assert "get" in paths["/v1/feed-subscriptions/{feed_id}/entries"]
    shown = document["components"]["schemas"]["SubscriptionOut"]["properties"]
    assert {"state", "last_error", "last_error_at", "consecutive_failures", "next_poll_at"} <= set(shown)
