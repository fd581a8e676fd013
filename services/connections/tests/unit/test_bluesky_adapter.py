"""BlueskyAdapter against hand-made XRPC answers (respx; no network)."""

import base64
import json
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from aligned_connections.adapters.platforms import (
    AppPassword,
    AuthFailure,
    AuthorizationCode,
    BlueskyAdapter,
    MediaAttachment,
    MetricName,
    NotSupported,
    PostState,
    PublishRequest,
    Rejected,
    ReplyTo,
    Retryable,
    UnknownOutcome,
)
from aligned_connections.adapters.platforms.atproto import tid_for_key

pytestmark = pytest.mark.unit

PDS = "https://pds.example"
DID = "did:plc:alice123"
XRPC = "/xrpc/"


def jwt(claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256K'})}.{part(claims)}.signature"


ACCESS_EXP = int(time.time()) + 7200
ACCESS = jwt({"scope": "com.atproto.appPass", "sub": DID, "exp": ACCESS_EXP})
REFRESH = jwt({"scope": "com.atproto.refresh", "sub": DID, "exp": ACCESS_EXP + 86400 * 60})
SESSION = {"accessJwt": ACCESS, "refreshJwt": REFRESH, "did": DID, "handle": "alice.example"}


@pytest.fixture
async def bluesky():
    async with respx.mock(base_url=PDS, assert_all_called=False) as pds, httpx.AsyncClient() as client:
        yield BlueskyAdapter(PDS, http_client=client), pds


def post(text: str = "hello", key: str = "job-1:bluesky", **fields) -> PublishRequest:
    return PublishRequest(text=text, idempotency_key=key, **fields)


def written(route) -> dict:
    return json.loads(route.calls.last.request.content)


async def test_oauth_redirects_are_not_how_bluesky_connects(bluesky):
    adapter, _ = bluesky
    with pytest.raises(NotSupported):
        await adapter.authorize_url("st", "challenge", "https://aligned.test/cb", ["atproto"])
    with pytest.raises(NotSupported):
        await adapter.exchange_code(
            AuthorizationCode(code="c", code_verifier="v" * 43, redirect_uri="https://a.test")
        )


async def test_an_app_password_opens_a_session(bluesky):
    adapter, pds = bluesky
    route = pds.post(XRPC + "com.atproto.server.createSession").respond(json=SESSION)

    tokens = await adapter.exchange_code(
        AppPassword(identifier="alice.example", password="abcd-efgh-ijkl-mnop")
    )

    assert written(route) == {"identifier": "alice.example", "password": "abcd-efgh-ijkl-mnop"}
    assert tokens.account_id == DID
    assert tokens.refresh_token.get_secret_value() == REFRESH
    assert tokens.expires_at == datetime.fromtimestamp(ACCESS_EXP, tz=UTC)


async def test_a_wrong_app_password_is_an_auth_failure(bluesky):
    adapter, pds = bluesky
    pds.post(XRPC + "com.atproto.server.createSession").respond(
        401, json={"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
    )
    with pytest.raises(AuthFailure) as refused:
        await adapter.exchange_code(AppPassword(identifier="alice.example", password="wrong"))
    assert refused.value.platform_message == "AuthenticationRequired: Invalid identifier or password"


async def test_refresh_presents_the_refresh_token_and_takes_the_new_pair(bluesky):
    adapter, pds = bluesky
    new_refresh = jwt({"sub": DID, "exp": ACCESS_EXP + 1})
    route = pds.post(XRPC + "com.atproto.server.refreshSession").respond(
        json=SESSION | {"refreshJwt": new_refresh}
    )

    tokens = await adapter.refresh(REFRESH)

    assert route.calls.last.request.headers["Authorization"] == f"Bearer {REFRESH}"
    assert tokens.refresh_token.get_secret_value() == new_refresh


async def test_an_expired_refresh_token_is_an_auth_failure_though_bluesky_says_400(bluesky):
    adapter, pds = bluesky
    pds.post(XRPC + "com.atproto.server.refreshSession").respond(
        400, json={"error": "ExpiredToken", "message": "Token has expired"}
    )
    with pytest.raises(AuthFailure):
        await adapter.refresh(REFRESH)


async def test_revoke_deletes_the_session(bluesky):
    adapter, pds = bluesky
    route = pds.post(XRPC + "com.atproto.server.deleteSession").respond(200)
    await adapter.revoke(REFRESH)
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {REFRESH}"


async def test_publish_writes_the_record_at_a_key_fixed_by_the_idempotency_key(bluesky):
    adapter, pds = bluesky
    rkey = tid_for_key("job-1:bluesky")
    route = pds.post(XRPC + "com.atproto.repo.putRecord").respond(
        json={"uri": f"at://{DID}/app.bsky.feed.post/{rkey}", "cid": "bafyrei"}
    )

    published = await adapter.publish(ACCESS, post("read https://example.com/a #launch"))

    body = written(route)
    assert (body["repo"], body["collection"], body["rkey"]) == (DID, "app.bsky.feed.post", rkey)
    assert body["swapRecord"] is None  # create only: a second write to this key is refused
    assert body["record"]["$type"] == "app.bsky.feed.post"
    assert body["record"]["text"] == "read https://example.com/a #launch"
    assert body["record"]["createdAt"].endswith("Z")
    assert [facet["features"][0]["$type"] for facet in body["record"]["facets"]] == [
        "app.bsky.richtext.facet#link",
        "app.bsky.richtext.facet#tag",
    ]
    assert published.remote_id == f"at://{DID}/app.bsky.feed.post/{rkey}"
    assert published.url == f"https://bsky.app/profile/{DID}/post/{rkey}"


async def test_a_reply_carries_strong_refs_to_the_threads_root_and_its_parent(bluesky):
    adapter, pds = bluesky
    root, parent = f"at://{DID}/app.bsky.feed.post/3root", f"at://{DID}/app.bsky.feed.post/3parent"
    for uri, cid in ((root, "bafyroot"), (parent, "bafyparent")):
        pds.get(XRPC + "com.atproto.repo.getRecord", params={"rkey": uri.rsplit("/", 1)[1]}).respond(
            json={"uri": uri, "cid": cid, "value": {"text": "earlier"}}
        )
    route = pds.post(XRPC + "com.atproto.repo.putRecord").respond(json={"uri": "at://d/c/r", "cid": "c"})

    await adapter.publish(
        ACCESS, post("part 3", reply_to=ReplyTo(parent_remote_id=parent, root_remote_id=root))
    )

    assert written(route)["record"]["reply"] == {
        "root": {"uri": root, "cid": "bafyroot"},
        "parent": {"uri": parent, "cid": "bafyparent"},
    }


async def test_a_reply_to_a_post_that_is_gone_is_rejected_without_writing(bluesky):
    adapter, pds = bluesky
    pds.get(XRPC + "com.atproto.repo.getRecord").respond(
        400, json={"error": "RecordNotFound", "message": "Could not locate record"}
    )
    route = pds.post(XRPC + "com.atproto.repo.putRecord").respond(json={"uri": "at://d/c/r", "cid": "c"})
    gone = f"at://{DID}/app.bsky.feed.post/3gone"

    with pytest.raises(Rejected):
        await adapter.publish(
            ACCESS, post("reply", reply_to=ReplyTo(parent_remote_id=gone, root_remote_id=gone))
        )
    assert not route.called


def test_record_keys_are_tids_fixed_by_the_key_and_distinct_between_keys():
    keys = [f"job-{number}:bluesky" for number in range(1000)]
    tids = {tid_for_key(key) for key in keys}
    assert len(tids) == len(keys)
    assert tid_for_key("job-1:bluesky") == tid_for_key("job-1:bluesky")
    assert all(len(tid) == 13 and tid[0] in "234567abcdefghij" for tid in tids)


async def test_a_retry_after_a_write_that_landed_returns_the_post_already_there(bluesky):
    adapter, pds = bluesky
    rkey = tid_for_key("job-1:bluesky")
    uri = f"at://{DID}/app.bsky.feed.post/{rkey}"
    pds.post(XRPC + "com.atproto.repo.putRecord").respond(
        400, json={"error": "InvalidSwap", "message": "Record was at bafyrei"}
    )
    pds.get(XRPC + "com.atproto.repo.getRecord").respond(
        json={"uri": uri, "cid": "bafyrei", "value": {"$type": "app.bsky.feed.post", "text": "hello"}}
    )

    published = await adapter.publish(ACCESS, post("hello"))

    assert published.remote_id == uri


async def test_a_record_key_held_by_another_post_is_refused(bluesky):
    adapter, pds = bluesky
    pds.post(XRPC + "com.atproto.repo.putRecord").respond(
        400, json={"error": "InvalidSwap", "message": "taken"}
    )
    pds.get(XRPC + "com.atproto.repo.getRecord").respond(
        json={"uri": "at://x/app.bsky.feed.post/y", "cid": "c", "value": {"text": "a different post"}}
    )
    with pytest.raises(Rejected):
        await adapter.publish(ACCESS, post("hello"))


async def test_invalid_content_is_rejected_with_blueskys_reason(bluesky):
    adapter, pds = bluesky
    pds.post(XRPC + "com.atproto.repo.putRecord").respond(
        400,
        json={
            "error": "InvalidRequest",
            "message": "Invalid app.bsky.feed.post record: text must not be longer than 300 graphemes",
        },
    )
    with pytest.raises(Rejected) as refused:
        await adapter.publish(ACCESS, post("x" * 301))
    assert "300 graphemes" in refused.value.platform_message


async def test_a_read_timeout_on_publish_is_an_unknown_outcome_naming_where_to_look(bluesky):
    adapter, pds = bluesky
    rkey = tid_for_key("job-1:bluesky")
    pds.post(XRPC + "com.atproto.repo.putRecord").mock(side_effect=httpx.ReadTimeout("no answer"))
    pds.get(XRPC + "com.atproto.repo.getRecord", params={"rkey": rkey}).respond(
        json={"uri": f"at://{DID}/app.bsky.feed.post/{rkey}", "cid": "c", "value": {"text": "hello"}}
    )

    with pytest.raises(UnknownOutcome) as lost:
        await adapter.publish(ACCESS, post())
    status = await adapter.get_post_status(ACCESS, lost.value.remote_id)

    assert lost.value.remote_id == f"at://{DID}/app.bsky.feed.post/{rkey}"
    assert status.state is PostState.PUBLISHED


async def test_status_of_a_record_that_does_not_exist_is_none(bluesky):
    adapter, pds = bluesky
    pds.get(XRPC + "com.atproto.repo.getRecord").respond(
        400, json={"error": "RecordNotFound", "message": "Could not locate record"}
    )
    assert await adapter.get_post_status(ACCESS, f"at://{DID}/app.bsky.feed.post/3kabc") is None


async def test_images_are_uploaded_as_blobs_and_embedded_with_alt_text(bluesky):
    adapter, pds = bluesky
    blob = {"$type": "blob", "ref": {"$link": "bafkrei"}, "mimeType": "image/png", "size": 4}
    upload = pds.post(XRPC + "com.atproto.repo.uploadBlob").respond(json={"blob": blob})
    put = pds.post(XRPC + "com.atproto.repo.putRecord").respond(json={"uri": "at://d/c/r", "cid": "c"})

    image = MediaAttachment(content=b"\x89PNG", mime_type="image/png", alt_text="our new logo")
    await adapter.publish(ACCESS, post(media=(image,)))

    assert upload.calls.last.request.headers["Content-Type"] == "image/png"
    assert upload.calls.last.request.content == b"\x89PNG"
    assert written(put)["record"]["embed"] == {
        "$type": "app.bsky.embed.images",
        "images": [{"alt": "our new logo", "image": blob}],
    }


async def test_throttling_is_retryable_at_blueskys_reset_time(bluesky):
    adapter, pds = bluesky
    pds.post(XRPC + "com.atproto.repo.putRecord").respond(
        429,
        headers={"RateLimit-Reset": str(int(time.time()) + 30)},
        json={"error": "RateLimitExceeded", "message": "slow down"},
    )
    with pytest.raises(Retryable) as limited:
        await adapter.publish(ACCESS, post())
    assert 25 <= limited.value.retry_after <= 30


async def test_an_expired_access_token_on_publish_is_an_auth_failure(bluesky):
    adapter, pds = bluesky
    pds.post(XRPC + "com.atproto.repo.putRecord").respond(
        400, json={"error": "ExpiredToken", "message": "Token has expired"}
    )
    with pytest.raises(AuthFailure):
        await adapter.publish(ACCESS, post())


async def test_metrics_are_fetched_25_posts_at_a_time(bluesky):
    adapter, pds = bluesky
    uris = [f"at://{DID}/app.bsky.feed.post/{number}" for number in range(30)]

    def answer(request: httpx.Request) -> httpx.Response:
        asked = parse_qs(request.url.query.decode())["uris"]
        return httpx.Response(
            200,
            json={
                "posts": [
                    {
                        "uri": uri,
                        "author": {"did": DID},
                        "record": {},
                        "likeCount": 3,
                        "repostCount": 2,
                        "replyCount": 1,
                        "quoteCount": 0,
                    }
                    for uri in asked
                ]
            },
        )

    route = pds.get(XRPC + "app.bsky.feed.getPosts").mock(side_effect=answer)

    points = await adapter.fetch_metrics(ACCESS, uris)

    assert route.call_count == 2
    assert len(points) == 30 * 4
    assert {point.name for point in points} == {
        MetricName.LIKES,
        MetricName.SHARES,
        MetricName.COMMENTS,
        MetricName.QUOTES,
    }


async def test_find_by_marker_skips_reposts_of_other_peoples_posts(bluesky):
    adapter, pds = bluesky
    pds.get(XRPC + "app.bsky.feed.getAuthorFeed").respond(
        json={
            "feed": [
                {
                    "post": {
                        "uri": "at://did:plc:bob/app.bsky.feed.post/1",
                        "author": {"did": "did:plc:bob"},
                        "record": {"text": "[aligned:job-3]"},
                    },
                    "reason": {"$type": "app.bsky.feed.defs#reasonRepost"},
                },
                {
                    "post": {
                        "uri": f"at://{DID}/app.bsky.feed.post/2",
                        "author": {"did": DID},
                        "record": {"text": "news [aligned:job-3]"},
                    }
                },
            ]
        }
    )

    found = await adapter.find_post_by_marker(ACCESS, "[aligned:job-3]")

    assert found.remote_id == f"at://{DID}/app.bsky.feed.post/2"


async def test_the_account_comes_from_the_session(bluesky):
    adapter, pds = bluesky
    pds.get(XRPC + "com.atproto.server.getSession").respond(json={"did": DID, "handle": "alice.example"})
    account = await adapter.get_account(ACCESS)
    assert (account.id, account.name) == (DID, "alice.example")


async def test_bluesky_sends_no_webhooks(bluesky):
    adapter, _ = bluesky
    with pytest.raises(NotSupported):
        await adapter.verify_webhook({}, b"{}")
