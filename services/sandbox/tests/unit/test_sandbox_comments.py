"""Comments, mentions and reviews on demand: announced by signed webhook, listed in the API
for a poll, answered once per Idempotency-Key, another account's items out of reach."""

import json

import pytest

from aligned_testing.sandbox import bearer

pytestmark = pytest.mark.unit


async def _webhooks_on(client) -> None:
    changes = {"webhook_url": "http://receiver.test/hook", "webhook_secret": "whsec_" + "A" * 32}
    assert (await client.post("/_control/config", json=changes)).status_code == 200


async def test_a_comment_is_announced_by_webhook_and_listed_for_the_poll_in_one_shape(
    client, connect, publish, webhook_inbox
):
    await _webhooks_on(client)
    tokens = await connect("alice")
    post = (await publish(tokens, "a post")).json()
    made = await client.post(
        f"/_control/posts/{post['id']}/comments", json={"text": "Nice!", "author_name": "Ann"}
    )
    assert made.status_code == 201, made.text
    comment = made.json()
    (hook,) = [
        json.loads(r.content) for r in webhook_inbox if json.loads(r.content)["type"] == "comment.created"
    ]
    polled = (await client.get("/api/v1/comments", headers=bearer(tokens))).json()["items"]
    assert hook["data"] == comment == polled[0]
    assert (comment["kind"], comment["remote_post_id"], comment["account_id"]) == (
        "comment",
        post["id"],
        post["account_id"],
    )
    on_post = (await client.get(f"/api/v1/posts/{post['id']}/comments", headers=bearer(tokens))).json()[
        "items"
    ]
    assert on_post == [comment]


async def test_a_reply_with_one_idempotency_key_is_made_once_and_another_account_cannot_see_or_answer(
    client, connect, publish
):
    alice, bob = await connect("alice"), await connect("bob")
    post = (await publish(alice, "a post")).json()
    comment = (
        await client.post(f"/_control/posts/{post['id']}/comments", json={"text": "?", "webhook": False})
    ).json()
    body = {"text": "Thanks", "in_reply_to_id": comment["platform_item_id"]}
    url = f"/api/v1/posts/{post['id']}/comments"
    first = await client.post(url, json=body, headers=bearer(alice) | {"Idempotency-Key": "r1"})
    again = await client.post(url, json=body, headers=bearer(alice) | {"Idempotency-Key": "r1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["platform_item_id"] == again.json()["platform_item_id"]
    assert first.json()["author_id"] == post["account_id"]  # by the account: a poll tells it from others'
    assert (await client.get("/_control/replies/counts")).json() == {comment["platform_item_id"]: 1}
    assert (await client.post(url, json=body, headers=bearer(bob))).status_code == 404
    assert (await client.get("/api/v1/comments", headers=bearer(bob))).json()["items"] == []


async def test_edits_and_deletions_show_in_the_listing(client, connect, publish):
    tokens = await connect("alice")
    post = (await publish(tokens, "a post")).json()
    comment = (
        await client.post(f"/_control/posts/{post['id']}/comments", json={"text": "v1", "webhook": False})
    ).json()
    cid = comment["platform_item_id"]
    edited = (await client.patch(f"/_control/comments/{cid}", json={"text": "v2", "webhook": False})).json()
    assert edited["text"] == "v2" and edited["edited_at"]
    await client.delete(f"/_control/comments/{cid}", params={"webhook": "false"})
    (listed,) = (await client.get("/api/v1/comments", headers=bearer(tokens))).json()["items"]
    assert (listed["deleted"], listed["text"]) == (True, "")


async def test_a_review_is_listed_and_answered_through_the_review_reply_api(client, connect, webhook_inbox):
    await _webhooks_on(client)
    tokens = await connect("alice")
    account = (await client.get("/api/v1/me", headers=bearer(tokens))).json()["id"]
    review = (
        await client.post(f"/_control/accounts/{account}/reviews", json={"rating": 2, "text": "Slow"})
    ).json()
    assert [json.loads(r.content)["type"] for r in webhook_inbox] == ["review.created"]
    (listed,) = (await client.get("/api/v1/reviews", headers=bearer(tokens))).json()["items"]
    assert (listed["rating"], listed["reply"]) == (2, None)
    answered = await client.post(
        f"/api/v1/reviews/{review['platform_item_id']}/reply", json={"text": "Sorry"}, headers=bearer(tokens)
    )
    assert answered.json()["reply"] == "Sorry"
    assert (await client.post(f"/_control/accounts/{account}/reviews", json={"rating": 9})).status_code == 422
