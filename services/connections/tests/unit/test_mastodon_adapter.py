"""MastodonAdapter against hand-made Mastodon answers (respx; no network)."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from aligned_connections.adapters.platforms import (
    AppPassword,
    AuthFailure,
    AuthorizationCode,
    MastodonAdapter,
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

pytestmark = pytest.mark.unit

INSTANCE = "https://mastodon.example"
TOKEN = "mastodon-access-token"
STATUS = {
    "id": "1101",
    "url": f"{INSTANCE}/@alice/1101",
    "uri": f"{INSTANCE}/users/alice/statuses/1101",
    "content": "<p>hello</p>",
    "favourites_count": 5,
    "reblogs_count": 2,
    "replies_count": 1,
}


@pytest.fixture
async def mastodon():
    async with (
        respx.mock(base_url=INSTANCE, assert_all_called=False) as platform,
        httpx.AsyncClient() as client,
    ):
        adapter = MastodonAdapter(
            INSTANCE, "client-id", "client-secret", http_client=client, media_poll_interval_s=0
        )
        yield adapter, platform


def form_of(request: httpx.Request) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(request.content.decode()).items()}


def post(text: str = "hello", key: str = "job-1:mastodon", **fields) -> PublishRequest:
    return PublishRequest(text=text, idempotency_key=key, **fields)


async def test_authorize_url_asks_for_a_pkce_code(mastodon):
    adapter, _ = mastodon
    url = await adapter.authorize_url(
        "st", "challenge-123", "https://aligned.test/cb", ["read", "write:statuses"]
    )

    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{INSTANCE}/oauth/authorize"
    assert query == {
        "response_type": "code",
        "client_id": "client-id",
        "redirect_uri": "https://aligned.test/cb",
        "scope": "read write:statuses",
        "state": "st",
        "code_challenge": "challenge-123",
        "code_challenge_method": "S256",
    }


async def test_exchange_code_sends_the_verifier_and_client_credentials(mastodon):
    adapter, platform = mastodon
    route = platform.post("/oauth/token").respond(
        json={
            "access_token": TOKEN,
            "token_type": "Bearer",
            "scope": "read write",
            "created_at": 1_700_000_000,
        }
    )

    tokens = await adapter.exchange_code(
        AuthorizationCode(code="c0de", code_verifier="v" * 43, redirect_uri="https://aligned.test/cb")
    )

    sent = form_of(route.calls.last.request)
    assert sent == {
        "grant_type": "authorization_code",
        "code": "c0de",
        "redirect_uri": "https://aligned.test/cb",
        "code_verifier": "v" * 43,
        "client_id": "client-id",
        "client_secret": "client-secret",
    }
    assert tokens.access_token.get_secret_value() == TOKEN
    # Mastodon's tokens usually do not expire and come without a refresh token.
    assert (tokens.expires_at, tokens.refresh_token) == (None, None)


async def test_an_app_password_is_not_a_mastodon_grant(mastodon):
    adapter, _ = mastodon
    with pytest.raises(NotSupported):
        await adapter.exchange_code(AppPassword(identifier="alice", password="pw"))


async def test_a_refused_code_is_an_auth_failure_in_mastodons_words(mastodon):
    adapter, platform = mastodon
    platform.post("/oauth/token").respond(
        400,
        json={"error": "invalid_grant", "error_description": "The provided authorization grant is invalid"},
    )
    with pytest.raises(AuthFailure) as refused:
        await adapter.exchange_code(
            AuthorizationCode(code="x", code_verifier="v" * 43, redirect_uri="https://a.test")
        )
    assert "authorization grant is invalid" in refused.value.platform_message


async def test_refresh_keeps_the_refresh_token_unless_a_new_one_comes(mastodon):
    adapter, platform = mastodon
    platform.post("/oauth/token").mock(
        side_effect=[
            httpx.Response(200, json={"access_token": "a2", "expires_in": 7200}),
            httpx.Response(200, json={"access_token": "a3", "expires_in": 7200, "refresh_token": "r2"}),
        ]
    )

    kept = await adapter.refresh("r1")
    replaced = await adapter.refresh("r1")

    assert kept.refresh_token.get_secret_value() == "r1"
    assert replaced.refresh_token.get_secret_value() == "r2"
    assert abs(kept.expires_at - (datetime.now(UTC) + timedelta(hours=2))) < timedelta(seconds=5)


async def test_revoke_sends_the_token_with_client_credentials(mastodon):
    adapter, platform = mastodon
    route = platform.post("/oauth/revoke").respond(json={})
    await adapter.revoke(TOKEN)
    assert form_of(route.calls.last.request) == {
        "token": TOKEN,
        "client_id": "client-id",
        "client_secret": "client-secret",
    }


async def test_publish_sends_the_idempotency_key_and_returns_the_status(mastodon):
    adapter, platform = mastodon
    route = platform.post("/api/v1/statuses").respond(json=STATUS)

    published = await adapter.publish(TOKEN, post("hello", key="job-42:mastodon"))

    request = route.calls.last.request
    assert request.headers["Idempotency-Key"] == "job-42:mastodon"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert json.loads(request.content) == {"status": "hello", "media_ids": []}
    assert (published.remote_id, published.url) == ("1101", STATUS["url"])


async def test_a_reply_names_the_status_it_answers(mastodon):
    adapter, platform = mastodon
    route = platform.post("/api/v1/statuses").respond(json=STATUS)

    await adapter.publish(
        TOKEN, post("a first comment", reply_to=ReplyTo(parent_remote_id="1100", root_remote_id="1100"))
    )

    assert json.loads(route.calls.last.request.content) == {
        "status": "a first comment",
        "media_ids": [],
        "in_reply_to_id": "1100",
    }


async def test_publish_waits_for_media_processing_before_posting(mastodon):
    adapter, platform = mastodon
    platform.post("/api/v2/media").respond(202, json={"id": "m1", "url": None})
    poll = platform.get("/api/v1/media/m1").mock(
        side_effect=[
            httpx.Response(206, json={"id": "m1", "url": None}),
            httpx.Response(200, json={"id": "m1", "url": "u"}),
        ]
    )
    statuses = platform.post("/api/v1/statuses").respond(json=STATUS)

    video = MediaAttachment(content=b"mp4", mime_type="video/mp4", alt_text="demo")
    await adapter.publish(TOKEN, post(media=(video,)))

    assert poll.call_count == 2
    assert json.loads(statuses.calls.last.request.content)["media_ids"] == ["m1"]


async def test_content_mastodon_refuses_is_rejected_with_its_reason(mastodon):
    adapter, platform = mastodon
    platform.post("/api/v1/statuses").respond(
        422, json={"error": "Validation failed: Text character limit of 500 exceeded"}
    )
    with pytest.raises(Rejected) as refused:
        await adapter.publish(TOKEN, post("x" * 600))
    assert refused.value.platform_message == "Validation failed: Text character limit of 500 exceeded"


async def test_a_read_timeout_on_publish_is_an_unknown_outcome(mastodon):
    adapter, platform = mastodon
    platform.post("/api/v1/statuses").mock(side_effect=httpx.ReadTimeout("no answer"))
    with pytest.raises(UnknownOutcome):
        await adapter.publish(TOKEN, post())


async def test_cannot_connect_on_publish_is_retryable(mastodon):
    adapter, platform = mastodon
    platform.post("/api/v1/statuses").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(Retryable):
        await adapter.publish(TOKEN, post())


async def test_throttling_is_retryable_at_mastodons_reset_time(mastodon):
    adapter, platform = mastodon
    reset = (datetime.now(UTC) + timedelta(seconds=90)).isoformat()
    platform.post("/api/v1/statuses").respond(
        429, headers={"X-RateLimit-Reset": reset}, json={"error": "Too many requests"}
    )
    with pytest.raises(Retryable) as limited:
        await adapter.publish(TOKEN, post())
    assert 85 <= limited.value.retry_after <= 90


@pytest.mark.parametrize(("status", "error"), [(503, Retryable), (401, AuthFailure)])
async def test_server_errors_retry_and_a_dead_token_is_an_auth_failure(mastodon, status, error):
    adapter, platform = mastodon
    platform.post("/api/v1/statuses").respond(status, json={"error": "The access token is invalid"})
    with pytest.raises(error):
        await adapter.publish(TOKEN, post())


async def test_status_is_published_or_unknown(mastodon):
    adapter, platform = mastodon
    platform.get("/api/v1/statuses/1101").respond(json=STATUS)
    platform.get("/api/v1/statuses/404").respond(404, json={"error": "Record not found"})

    assert (await adapter.get_post_status(TOKEN, "1101")).state is PostState.PUBLISHED
    assert await adapter.get_post_status(TOKEN, "404") is None


async def test_find_by_marker_reads_the_text_out_of_the_html(mastodon):
    adapter, platform = mastodon
    platform.get("/api/v1/accounts/verify_credentials").respond(json={"id": "77", "acct": "alice"})
    platform.get("/api/v1/accounts/77/statuses").respond(
        json=[
            STATUS | {"id": "2", "content": "<p>unrelated</p>"},
            STATUS | {"id": "1", "content": "<p>Q&amp;A tonight<br>[aligned:job-5]</p>"},
        ]
    )

    found = await adapter.find_post_by_marker(TOKEN, "Q&A tonight\n[aligned:job-5]")

    assert found.remote_id == "1"
    assert await adapter.find_post_by_marker(TOKEN, "[aligned:job-6]") is None


async def test_metrics_come_from_the_status_counts_and_skip_deleted_posts(mastodon):
    adapter, platform = mastodon
    platform.get("/api/v1/statuses/1101").respond(json=STATUS)
    platform.get("/api/v1/statuses/gone").respond(404, json={"error": "Record not found"})

    points = await adapter.fetch_metrics(TOKEN, ["1101", "gone"])

    assert {point.name: point.value for point in points} == {
        MetricName.LIKES: 5,
        MetricName.SHARES: 2,
        MetricName.COMMENTS: 1,
    }


async def test_account_is_the_verified_credentials(mastodon):
    adapter, platform = mastodon
    platform.get("/api/v1/accounts/verify_credentials").respond(json={"id": "77", "acct": "alice"})
    account = await adapter.get_account(TOKEN)
    assert (account.id, account.name) == ("77", "alice")


async def test_mastodon_has_no_account_webhooks(mastodon):
    adapter, _ = mastodon
    with pytest.raises(NotSupported):
        await adapter.verify_webhook({}, b"{}")
