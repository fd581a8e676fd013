import re

import pytest

from aligned_testing.sandbox import bearer

pytestmark = pytest.mark.unit


@pytest.fixture
def reply(client):
    async def run(tokens: dict, text: str, in_reply_to_id: str | None, key: str | None = None):
        headers = bearer(tokens) | ({"Idempotency-Key": key} if key else {})
        body = {"text": text, "in_reply_to_id": in_reply_to_id}
        return await client.post("/api/v1/posts", json=body, headers=headers)

    return run


async def test_a_thread_of_replies_shows_its_chain_and_replies(connect, publish, reply, client):
    tokens = await connect("alice")
    first = (await publish(tokens, "part 1")).json()
    second = (await reply(tokens, "part 2", first["id"])).json()
    third = (await reply(tokens, "part 3", second["id"])).json()

    assert (second["in_reply_to_id"], third["in_reply_to_id"]) == (first["id"], second["id"])
    assert third["reply_chain"] == [first["id"], second["id"]]
    read = (await client.get(f"/api/v1/posts/{first['id']}", headers=bearer(tokens))).json()
    assert (read["in_reply_to_id"], read["reply_chain"], read["reply_ids"]) == (None, [], [second["id"]])


async def test_a_reply_may_answer_another_accounts_post(connect, publish, reply):
    theirs = (await publish(await connect("bob"), "a question")).json()
    answer = await reply(await connect("alice"), "an answer", theirs["id"])
    assert answer.status_code == 201
    assert answer.json()["reply_chain"] == [theirs["id"]]


async def test_a_reply_to_an_unknown_post_is_refused(connect, reply):
    response = await reply(await connect(), "into the void", "post_nope")
    assert response.status_code == 422
    assert "in_reply_to_id" in response.json()["error_description"]


async def test_a_replayed_reply_is_the_same_post_and_a_key_reused_for_another_parent_is_refused(
    connect, publish, reply
):
    tokens = await connect()
    one, two = (await publish(tokens, "one")).json(), (await publish(tokens, "two")).json()
    first = await reply(tokens, "comment", one["id"], key="c-1")
    again = await reply(tokens, "comment", one["id"], key="c-1")
    elsewhere = await reply(tokens, "comment", two["id"], key="c-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert elsewhere.status_code == 422
    assert elsewhere.json()["error"] == "idempotency_key_reused"


async def test_the_post_page_shows_the_chain_above_and_the_replies_below(connect, publish, reply, client):
    tokens = await connect("alice")
    first = (await publish(tokens, "part 1")).json()
    second = (await reply(tokens, "part 2", first["id"])).json()
    third = (await reply(tokens, "part 3", second["id"])).json()

    page = (await client.get(second["url"].replace("http://sandbox.test", ""))).text
    chain, replies = re.search(
        r'<ol class="reply-chain">(.*?)</ol>.*<ol class="replies">(.*?)</ol>', page
    ).groups()
    assert re.findall(r'data-id="([^"]+)"', chain) == [first["id"]]
    assert re.findall(r'data-id="([^"]+)"', replies) == [third["id"]]
    assert f'data-in-reply-to="{first["id"]}"' in page
