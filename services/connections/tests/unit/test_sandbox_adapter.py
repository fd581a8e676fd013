"""The sandbox adapter against the real sandbox app, in process (no network)."""

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from aligned_common.platforms import InvalidSignature, WebhookSecret
from aligned_connections.adapters.platforms import (
    AppPassword,
    AuthFailure,
    AuthorizationCode,
    MediaAttachment,
    MetricName,
    NotSupported,
    PostState,
    PublishRequest,
    Rejected,
    ReplyTo,
    Retryable,
    SandboxAdapter,
    TokenSet,
    UnknownOutcome,
)
from aligned_connections.adapters.platforms.engagement import EngagementSource, ReplyRequest
from aligned_testing.sandbox import PkcePair, approve

pytestmark = pytest.mark.unit

REDIRECT_URI = "http://aligned.test/connections/callback"


def access(tokens: TokenSet) -> str:
    return tokens.access_token.get_secret_value()


def post(text: str = "hello from Aligned", key: str = "job-1:sandbox", **fields) -> PublishRequest:
    return PublishRequest(text=text, idempotency_key=key, **fields)


async def test_connecting_gives_tokens_that_expire_and_can_be_refreshed(connect_sandbox, sandbox_adapter):
    tokens = await connect_sandbox("alice")

    assert tokens.refresh_token is not None
    assert tokens.expires_at is not None
    assert abs(tokens.expires_at - (datetime.now(UTC) + timedelta(seconds=300))) < timedelta(seconds=5)
    assert tokens.scopes == ("read", "write")
    assert (await sandbox_adapter.get_account(access(tokens))).name == "alice"


async def test_a_refresh_answer_without_a_refresh_token_keeps_the_one_we_had(
    connect_sandbox, sandbox_adapter
):
    tokens = await connect_sandbox()

    refreshed = await sandbox_adapter.refresh(tokens.refresh_token.get_secret_value())

    assert refreshed.access_token != tokens.access_token
    assert refreshed.refresh_token == tokens.refresh_token
    # ...and it still works, which is the point of keeping it.
    assert await sandbox_adapter.refresh(refreshed.refresh_token.get_secret_value())


async def test_a_rotated_refresh_token_replaces_the_old_one(connect_sandbox, sandbox_adapter, control):
    await control.configure(rotate_refresh_tokens=True)
    tokens = await connect_sandbox()

    refreshed = await sandbox_adapter.refresh(tokens.refresh_token.get_secret_value())

    assert refreshed.refresh_token != tokens.refresh_token
    with pytest.raises(AuthFailure) as refused:
        await sandbox_adapter.refresh(tokens.refresh_token.get_secret_value())
    assert "invalid_grant" in refused.value.platform_message


async def test_a_wrong_code_verifier_is_an_auth_failure_with_the_platforms_words(
    sandbox_adapter, sandbox_http
):
    url = await sandbox_adapter.authorize_url("s", PkcePair.generate().challenge, REDIRECT_URI, ["write"])
    code = (await approve(sandbox_http, url, "alice"))["code"]

    with pytest.raises(AuthFailure) as refused:
        await sandbox_adapter.exchange_code(
            AuthorizationCode(
                code=code, code_verifier=PkcePair.generate().verifier, redirect_uri=REDIRECT_URI
            )
        )

    assert refused.value.status_code == 400
    assert "code_verifier" in refused.value.platform_message


async def test_an_app_password_is_not_a_sandbox_grant(sandbox_adapter):
    with pytest.raises(NotSupported):
        await sandbox_adapter.exchange_code(AppPassword(identifier="alice", password="x"))


async def test_an_expired_or_revoked_token_is_an_auth_failure(connect_sandbox, sandbox_adapter, control):
    expired, revoked = await connect_sandbox(), await connect_sandbox()
    await sandbox_adapter.revoke(revoked.refresh_token.get_secret_value())
    await control.advance_clock(301)

    for tokens in (expired, revoked):
        with pytest.raises(AuthFailure):
            await sandbox_adapter.get_account(access(tokens))


async def test_publish_then_status(connect_sandbox, sandbox_adapter):
    tokens = await connect_sandbox("alice")

    published = await sandbox_adapter.publish(access(tokens), post())
    status = await sandbox_adapter.get_post_status(access(tokens), published.remote_id)

    assert published.url.endswith(f"/@alice/posts/{published.remote_id}")
    assert (status.state, status.url) == (PostState.PUBLISHED, published.url)


async def test_a_reply_is_published_under_the_post_it_answers(connect_sandbox, sandbox_adapter, sandbox_http):
    tokens = await connect_sandbox()
    first = await sandbox_adapter.publish(access(tokens), post(key="job-8:sandbox"))
    reply_to = ReplyTo(parent_remote_id=first.remote_id, root_remote_id=first.remote_id)

    comment = await sandbox_adapter.publish(
        access(tokens), post(text="first comment", key="job-8:sandbox:comment", reply_to=reply_to)
    )

    stored = await sandbox_http.get(
        f"/api/v1/posts/{comment.remote_id}", headers={"Authorization": f"Bearer {access(tokens)}"}
    )
    assert stored.json()["in_reply_to_id"] == first.remote_id


async def test_the_posts_visibility_and_sensitive_flag_reach_the_sandbox(
    connect_sandbox, sandbox_adapter, sandbox_http
):
    tokens = await connect_sandbox()
    published = await sandbox_adapter.publish(
        access(tokens), post(options={"visibility": "unlisted", "sensitive": "true"})
    )

    stored = await sandbox_http.get(
        f"/api/v1/posts/{published.remote_id}", headers={"Authorization": f"Bearer {access(tokens)}"}
    )
    assert (stored.json()["visibility"], stored.json()["sensitive"]) == ("unlisted", True)


async def test_publishing_twice_with_one_key_makes_one_post(connect_sandbox, sandbox_adapter, control):
    tokens = await connect_sandbox()
    first = await sandbox_adapter.publish(access(tokens), post(key="job-7:sandbox"))
    second = await sandbox_adapter.publish(access(tokens), post(key="job-7:sandbox"))

    assert first == second
    assert (await control.counts())["by_idempotency_key"] == {"job-7:sandbox": 1}


async def test_publish_uploads_media_first(connect_sandbox, sandbox_adapter, sandbox_http):
    tokens = await connect_sandbox()
    image = MediaAttachment(content=b"\x89PNG\r\n", mime_type="image/png", alt_text="a chart")

    published = await sandbox_adapter.publish(access(tokens), post(media=(image,)))

    stored = await sandbox_http.get(
        f"/api/v1/posts/{published.remote_id}", headers={"Authorization": f"Bearer {access(tokens)}"}
    )
    assert len(stored.json()["media_ids"]) == 1


async def test_content_the_platform_refuses_is_rejected_with_its_reason(connect_sandbox, sandbox_adapter):
    tokens = await connect_sandbox()
    with pytest.raises(Rejected) as refused:
        await sandbox_adapter.publish(access(tokens), post(text="a" * 1001))
    assert refused.value.status_code == 422
    assert "1000" in refused.value.platform_message


@pytest.mark.parametrize(("mode", "error"), [("error_500", Retryable), ("error_401", AuthFailure)])
async def test_injected_failures_map_to_typed_errors(connect_sandbox, sandbox_adapter, control, mode, error):
    tokens = await connect_sandbox()
    await control.fault(mode=mode, endpoint="/api/v1/posts")
    with pytest.raises(error):
        await sandbox_adapter.publish(access(tokens), post())


async def test_a_429_is_retryable_after_what_the_platform_said(connect_sandbox, sandbox_adapter, control):
    tokens = await connect_sandbox()
    await control.fault(mode="error_429", retry_after_s=7)
    with pytest.raises(Retryable) as limited:
        await sandbox_adapter.get_account(access(tokens))
    assert limited.value.retry_after == 7


async def test_a_transient_token_endpoint_failure_does_not_look_like_a_dead_connection(
    connect_sandbox, sandbox_adapter, control
):
    tokens = await connect_sandbox()
    await control.fault(mode="error_500", endpoint="/oauth/token")
    with pytest.raises(Retryable):
        await sandbox_adapter.refresh(tokens.refresh_token.get_secret_value())


async def test_a_lost_answer_is_an_unknown_outcome_settled_by_looking_not_resending(
    connect_sandbox, sandbox_adapter, control
):
    tokens = await connect_sandbox()
    await control.fault(mode="timeout_after_accept", endpoint="/api/v1/posts", delay_s=5)

    with pytest.raises(UnknownOutcome) as lost:
        await sandbox_adapter.publish(
            access(tokens), post(text="launch day [aligned:job-9]", key="job-9:sandbox")
        )
    found = await sandbox_adapter.find_post_by_marker(access(tokens), "[aligned:job-9]")

    assert lost.value.remote_id is None  # the sandbox's ids are not known in advance
    assert found is not None
    assert (await control.counts())["by_idempotency_key"] == {"job-9:sandbox": 1}


async def test_find_by_marker_answers_none_when_nothing_was_posted(connect_sandbox, sandbox_adapter):
    tokens = await connect_sandbox()
    await sandbox_adapter.publish(access(tokens), post(text="something else"))
    assert await sandbox_adapter.find_post_by_marker(access(tokens), "[aligned:job-404]") is None


async def test_cannot_reach_the_platform_is_retryable():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        adapter = SandboxAdapter("http://sandbox.test", "c", http_client=client)
        with pytest.raises(Retryable):
            await adapter.publish("token", post())


async def test_status_of_unknown_and_deleted_posts(connect_sandbox, sandbox_adapter, sandbox_http):
    tokens = await connect_sandbox()
    published = await sandbox_adapter.publish(access(tokens), post())
    await sandbox_http.delete(
        f"/api/v1/posts/{published.remote_id}", headers={"Authorization": f"Bearer {access(tokens)}"}
    )

    assert (
        await sandbox_adapter.get_post_status(access(tokens), published.remote_id)
    ).state is PostState.DELETED
    assert await sandbox_adapter.get_post_status(access(tokens), "post_unknown") is None


async def test_metrics_of_existing_posts(connect_sandbox, sandbox_adapter, control):
    await control.configure(token_ttl_s=86_400)
    tokens = await connect_sandbox()
    published = await sandbox_adapter.publish(access(tokens), post())
    await control.advance_clock(3600)

    points = await sandbox_adapter.fetch_metrics(access(tokens), [published.remote_id, "post_gone"])

    assert {point.name for point in points} == {
        MetricName.IMPRESSIONS,
        MetricName.LIKES,
        MetricName.SHARES,
        MetricName.COMMENTS,
    }
    assert {point.remote_id for point in points} == {published.remote_id}
    assert next(point.value for point in points if point.name is MetricName.IMPRESSIONS) > 0


async def test_webhooks_signed_by_the_sandbox_verify_and_parse(
    connect_sandbox, sandbox_adapter, sandbox_http, control, webhook_inbox, webhook_secret
):
    await control.configure(webhook_url="http://aligned.test/webhooks/sandbox", webhook_secret=webhook_secret)
    tokens = await connect_sandbox()
    published = await sandbox_adapter.publish(access(tokens), post())
    await sandbox_http.post(
        "/_control/webhooks/send",
        json={"type": "post.status_changed", "post_id": published.remote_id, "status": "deleted"},
    )
    [delivery] = webhook_inbox

    event = await sandbox_adapter.verify_webhook(delivery.headers, delivery.content)

    assert event.id == delivery.headers["webhook-id"]
    assert event.type == "post.status_changed"
    assert event.data["post_id"] == published.remote_id
    assert event.data["status"] == "deleted"


async def test_a_webhook_with_a_forged_body_is_refused(
    sandbox_adapter, sandbox_http, control, webhook_inbox, webhook_secret
):
    await control.configure(webhook_url="http://aligned.test/webhooks/sandbox", webhook_secret=webhook_secret)
    await connect_sandbox_account(sandbox_http)
    await sandbox_http.post(
        "/_control/webhooks/send", json={"type": "account.deauthorized", "account": "alice"}
    )
    [delivery] = webhook_inbox
    forged = json.loads(delivery.content) | {"type": "metrics.pushed"}

    with pytest.raises(InvalidSignature):
        await sandbox_adapter.verify_webhook(delivery.headers, json.dumps(forged).encode())


async def test_webhook_secret_rotation_accepts_the_old_secret_meanwhile(
    sandbox_http, control, webhook_inbox, webhook_secret
):
    await control.configure(webhook_url="http://aligned.test/webhooks/sandbox", webhook_secret=webhook_secret)
    await connect_sandbox_account(sandbox_http)
    await sandbox_http.post(
        "/_control/webhooks/send", json={"type": "account.deauthorized", "account": "alice"}
    )
    [delivery] = webhook_inbox
    rotating = SandboxAdapter(
        "http://sandbox.test",
        "c",
        http_client=sandbox_http,
        webhook_secrets=[WebhookSecret.generate(), webhook_secret],
    )

    assert (await rotating.verify_webhook(delivery.headers, delivery.content)).type == "account.deauthorized"


async def connect_sandbox_account(sandbox_http, account: str = "alice") -> None:
    """Make the account exist on the sandbox (a webhook about it needs it)."""
    pkce = PkcePair.generate()
    query = "client_id=c&redirect_uri=http://x.test/cb&code_challenge=" + pkce.challenge
    await approve(sandbox_http, f"/oauth/authorize?{query}", account)


async def test_engagement_items_are_fetched_and_a_reply_and_a_review_reply_land_once(
    connect_sandbox, sandbox_adapter, sandbox_http
):
    assert isinstance(sandbox_adapter, EngagementSource)
    token = access(await connect_sandbox("alice"))
    published = await sandbox_adapter.publish(token, post())
    made = await sandbox_http.post(
        f"/_control/posts/{published.remote_id}/comments", json={"text": "Nice", "webhook": False}
    )
    account = (await sandbox_adapter.get_account(token)).id
    review = await sandbox_http.post(
        f"/_control/accounts/{account}/reviews", json={"rating": 4, "webhook": False}
    )
    items = await sandbox_adapter.fetch_engagement(token)
    assert [(i.kind, i.platform_item_id) for i in items] == [
        ("comment", made.json()["platform_item_id"]),
        ("review", review.json()["platform_item_id"]),
    ]
    request = ReplyRequest("comment", items[0].platform_item_id, published.remote_id, "Thanks", "reply-1")
    first = await sandbox_adapter.reply(token, request)
    assert (await sandbox_adapter.reply(token, request)).remote_id == first.remote_id  # same key: same reply
    await sandbox_adapter.reply(
        token, ReplyRequest("review", items[1].platform_item_id, None, "Danke", "r-1")
    )
    counts = (await sandbox_http.get("/_control/replies/counts")).json()
    assert counts == {items[0].platform_item_id: 1, items[1].platform_item_id: 1}
