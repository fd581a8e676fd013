import asyncio
import os

import pytest

from aligned_testing.sandbox import bearer

pytestmark = pytest.mark.unit


async def counts(client) -> dict:
    return (await client.get("/_control/posts/counts")).json()


async def test_publishing_creates_a_post_with_id_url_and_time(connect, publish):
    response = await publish(await connect("alice"), "first post", key="k1")

    assert response.status_code == 201
    post = response.json()
    assert post["id"].startswith("post_")
    assert post["url"] == f"http://sandbox.test/@alice/posts/{post['id']}"
    assert post["created_at"]
    assert post["status"] == "published"


async def test_the_same_idempotency_key_returns_the_same_post_and_creates_no_second(connect, publish, client):
    tokens = await connect()
    first = await publish(tokens, "hello", key="job-1:sandbox")
    again = await publish(tokens, "hello", key="job-1:sandbox")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert (await counts(client))["by_idempotency_key"] == {"job-1:sandbox": 1}


async def test_concurrent_requests_with_one_key_create_one_post(connect, publish, client):
    tokens = await connect()
    responses = await asyncio.gather(*(publish(tokens, "race", key="same") for _ in range(20)))

    assert len({response.json()["id"] for response in responses}) == 1
    assert (await counts(client))["total_created"] == 1


async def test_keys_are_per_account(connect, publish):
    alice, bob = await connect("alice"), await connect("bob")
    assert (await publish(alice, "hi", key="k")).json()["id"] != (await publish(bob, "hi", key="k")).json()[
        "id"
    ]


async def test_a_key_reused_for_different_text_is_refused(connect, publish):
    tokens = await connect()
    await publish(tokens, "one", key="k")
    response = await publish(tokens, "two", key="k")
    assert response.status_code == 422
    assert response.json()["error"] == "idempotency_key_reused"


async def test_without_a_key_every_request_is_a_new_post_and_counts_show_the_duplicate(
    connect, publish, client
):
    tokens = await connect()
    await publish(tokens, "dup")
    await publish(tokens, "dup")
    assert (await counts(client))["by_text"] == {"dup": 2}


async def test_a_forgotten_key_lets_a_late_retry_duplicate(connect, publish, client):
    await client.post("/_control/config", json={"idempotency_window_s": 60})
    tokens = await connect()
    await publish(tokens, "late", key="k")
    await client.post("/_control/clock/advance", json={"seconds": 61})
    await publish(tokens, "late", key="k")
    assert (await counts(client))["by_idempotency_key"] == {"k": 2}


async def test_recent_posts_are_newest_first_with_their_text(connect, publish, client):
    tokens = await connect()
    for text in ("one", "two", "three"):
        await publish(tokens, text)
    response = await client.get("/api/v1/posts", params={"limit": 2}, headers=bearer(tokens))
    assert [post["text"] for post in response.json()["posts"]] == ["three", "two"]


async def test_post_status_follows_deletion(connect, publish, client):
    tokens = await connect()
    post_id = (await publish(tokens)).json()["id"]
    assert (await client.get(f"/api/v1/posts/{post_id}", headers=bearer(tokens))).json()[
        "status"
    ] == "published"

    await client.delete(f"/api/v1/posts/{post_id}", headers=bearer(tokens))

    assert (await client.get(f"/api/v1/posts/{post_id}", headers=bearer(tokens))).json()[
        "status"
    ] == "deleted"


async def test_another_account_cannot_see_the_post(connect, publish, client):
    post_id = (await publish(await connect("alice"))).json()["id"]
    response = await client.get(f"/api/v1/posts/{post_id}", headers=bearer(await connect("mallory")))
    assert response.status_code == 404


async def test_content_over_the_limits_is_refused_with_422(connect, publish):
    tokens = await connect()
    too_long = await publish(tokens, "a" * 1001)
    assert too_long.status_code == 422
    assert too_long.json()["error"] == "validation_failed"
    assert (await publish(tokens, "a" * 1000)).status_code == 201
    assert (await publish(tokens, "   ")).status_code == 422


async def test_uploaded_media_can_be_attached(connect, client):
    tokens = await connect()
    upload = await client.post(
        "/api/v1/media", content=b"\x89PNG...", headers=bearer(tokens) | {"Content-Type": "image/png"}
    )
    assert upload.status_code == 201
    media_id = upload.json()["id"]

    post = await client.post(
        "/api/v1/posts", json={"text": "", "media_ids": [media_id]}, headers=bearer(tokens)
    )

    assert post.status_code == 201
    assert post.json()["media_ids"] == [media_id]


async def test_a_post_lists_every_received_media_item_with_its_sha256_and_size(connect, client):
    import hashlib
    import re

    tokens = await connect()
    files = [os.urandom(3000 + i) for i in range(3)]
    ids = []
    for data in files:
        upload = await client.post(
            "/api/v1/media", content=data, headers=bearer(tokens) | {"Content-Type": "image/png"}
        )
        ids.append(upload.json()["id"])
    post = (
        await client.post("/api/v1/posts", json={"text": "three", "media_ids": ids}, headers=bearer(tokens))
    ).json()

    expected = [(i, hashlib.sha256(d).hexdigest(), len(d)) for i, d in zip(ids, files, strict=True)]
    via_api = (await client.get(f"/api/v1/posts/{post['id']}", headers=bearer(tokens))).json()["media"]
    via_control = (await client.get(f"/_control/posts/{post['id']}")).json()["media"]
    page = (await client.get(post["url"].replace("http://testserver", ""))).text
    on_page = re.findall(r'data-id="([^"]+)" data-sha256="([0-9a-f]+)" data-size-bytes="(\d+)"', page)
    assert [(m["id"], m["sha256"], m["size_bytes"]) for m in via_api] == expected
    assert [(m["id"], m["sha256"], m["size_bytes"]) for m in via_control] == expected
    assert [(i, s, int(n)) for i, s, n in on_page] == expected


async def test_a_video_over_the_platforms_size_limit_is_refused(connect, client):
    tokens = await connect()
    big = await client.post(
        "/api/v1/media",
        content=b"\0" * (64 * 1024 * 1024 + 1),
        headers=bearer(tokens) | {"Content-Type": "video/mp4"},
    )
    assert big.status_code == 422 and "exceeds" in big.json()["error_description"]


async def test_unsupported_media_and_foreign_media_ids_are_refused(connect, client):
    alice, bob = await connect("alice"), await connect("bob")
    pdf = await client.post(
        "/api/v1/media", content=b"%PDF", headers=bearer(alice) | {"Content-Type": "application/pdf"}
    )
    assert pdf.status_code == 422
    png = (
        await client.post(
            "/api/v1/media", content=b"png", headers=bearer(alice) | {"Content-Type": "image/png"}
        )
    ).json()
    stolen = await client.post(
        "/api/v1/posts", json={"text": "x", "media_ids": [png["id"]]}, headers=bearer(bob)
    )
    assert stolen.status_code == 422


async def test_post_metrics_grow_with_time_and_are_repeatable(connect, publish, client):
    await client.post("/_control/config", json={"token_ttl_s": 86_400})
    tokens = await connect()
    post_id = (await publish(tokens)).json()["id"]
    url = f"/api/v1/posts/{post_id}/metrics"

    await client.post("/_control/clock/advance", json={"seconds": 600})
    early, early_again = [(await client.get(url, headers=bearer(tokens))).json() for _ in range(2)]
    await client.post("/_control/clock/advance", json={"seconds": 6 * 3600})
    late = (await client.get(url, headers=bearer(tokens))).json()

    assert early["impressions"] == early_again["impressions"] > 0
    assert late["impressions"] > early["impressions"]
    assert late["likes"] >= early["likes"]
    assert set(late) >= {"impressions", "likes", "shares", "comments"}


async def test_account_metrics_count_published_posts(connect, publish, client):
    tokens = await connect()
    before = (await client.get("/api/v1/accounts/me/metrics", headers=bearer(tokens))).json()
    await publish(tokens)
    after = (await client.get("/api/v1/accounts/me/metrics", headers=bearer(tokens))).json()
    assert (before["posts"], after["posts"]) == (0, 1)
    assert after["followers"] > before["followers"]


async def test_a_post_keeps_its_visibility_and_sensitive_flag_and_its_page_shows_them(connect, client):
    tokens = await connect("alice")
    post = (
        await client.post(
            "/api/v1/posts",
            json={"text": "members only", "visibility": "private", "sensitive": True},
            headers=bearer(tokens),
        )
    ).json()
    plain = (await client.post("/api/v1/posts", json={"text": "for all"}, headers=bearer(tokens))).json()

    via_api = (await client.get(f"/api/v1/posts/{post['id']}", headers=bearer(tokens))).json()
    page = (await client.get(post["url"].replace("http://testserver", ""))).text
    assert (via_api["visibility"], via_api["sensitive"]) == ("private", True)
    assert 'data-visibility="private" data-sensitive="true"' in page
    assert (plain["visibility"], plain["sensitive"]) == ("public", False)


async def test_a_visibility_the_sandbox_does_not_know_is_refused(connect, client):
    tokens = await connect()
    response = await client.post(
        "/api/v1/posts", json={"text": "x", "visibility": "friends"}, headers=bearer(tokens)
    )
    assert response.status_code == 422
