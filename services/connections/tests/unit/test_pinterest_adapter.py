"""PinterestAdapter against answers shaped as the Pinterest API v5 reference shows them."""

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from aligned_connections.adapters.platforms import (
    AuthFailure,
    AuthorizationCode,
    MediaAttachment,
    MetricName,
    NotSupported,
    PinterestAdapter,
    PublishRequest,
    Rejected,
    Retryable,
    UnknownOutcome,
)
from aligned_connections.adapters.platforms.pinterest import API_URL

from .recorded_api import RecordedApi, body_json, form, no_sleep, ok, query

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TOKEN = "pina_access"
BOARD = "549755885175"
PINS = f"{API_URL}/pins"
TOKEN_ANSWER = {
    "access_token": "pina_access",
    "refresh_token": "pinr_refresh",
    "response_type": "authorization_code",
    "token_type": "bearer",
    "expires_in": 2592000,
    "refresh_token_expires_in": 31536000,
    "scope": "boards:read pins:read pins:write user_accounts:read",
}


@pytest.fixture
async def pinterest():
    api = RecordedApi()
    async with api.client() as client:
        yield (
            PinterestAdapter("app-id", "app-secret", http_client=client, sleep=no_sleep, clock=lambda: NOW),
            api,
        )


def pin(*media: MediaAttachment, text: str = "spring tart recipe", **fields) -> PublishRequest:
    return PublishRequest(
        text=text, media=media, idempotency_key="job-1:pinterest", account_id=BOARD, **fields
    )


def image(n: int = 1, alt: str = "") -> MediaAttachment:
    return MediaAttachment(
        url=f"https://store.test/{n}.jpg", size_bytes=1, mime_type="image/jpeg", alt_text=alt
    )


def created(pin_id: str = "813744226420795884") -> httpx.Response:
    return ok(
        {
            "id": pin_id,
            "board_id": BOARD,
            "description": "spring tart recipe",
            "created_at": "2026-03-01T12:00:00",
        },
        status=201,
    )


async def test_connect_uses_basic_credentials_and_makes_a_connection_per_board(pinterest):
    adapter, api = pinterest
    url = await adapter.authorize_url("st", "challenge", "https://a.test/cb", ["read", "write"])
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith("https://www.pinterest.com/oauth/?")
    assert (
        params["scope"] == "boards:read,pins:read,pins:write,user_accounts:read" and params["state"] == "st"
    )

    api.on("POST", f"{API_URL}/oauth/token", ok(TOKEN_ANSWER))
    api.on(
        "GET", f"{API_URL}/user_account", ok({"account_type": "BUSINESS", "id": "1234", "username": "bakery"})
    )
    api.on(
        "GET",
        f"{API_URL}/boards",
        ok({"items": [{"id": BOARD, "name": "Recipes", "privacy": "PUBLIC"}], "bookmark": "b2"}),
        ok({"items": [{"id": "549755885176", "name": "Shop", "privacy": "SECRET"}], "bookmark": None}),
    )

    tokens = await adapter.exchange_code(
        AuthorizationCode(code="c", code_verifier="v" * 43, redirect_uri="https://a.test/cb")
    )
    boards = await adapter.publishable_accounts(tokens)

    (exchange,) = api.sent("POST", f"{API_URL}/oauth/token")
    assert exchange.headers["authorization"] == "Basic " + base64.b64encode(b"app-id:app-secret").decode()
    assert form(exchange) == {
        "grant_type": "authorization_code",
        "code": "c",
        "redirect_uri": "https://a.test/cb",
    }
    assert tokens.expires_at == NOW + timedelta(days=30)
    assert tokens.scopes == ("boards:read", "pins:read", "pins:write", "user_accounts:read")
    assert [(b.account.id, b.account.name) for b in boards] == [
        (BOARD, "bakery / Recipes"),
        ("549755885176", "bakery / Shop"),
    ]
    assert all(b.tokens.refresh_token.get_secret_value() == "pinr_refresh" for b in boards)  # type: ignore[union-attr]
    assert query(api.sent("GET", f"{API_URL}/boards")[1])["bookmark"] == "b2"


async def test_refresh_takes_the_new_refresh_token_and_a_refused_one_is_an_auth_failure(pinterest):
    adapter, api = pinterest
    api.on(
        "POST",
        f"{API_URL}/oauth/token",
        ok(
            TOKEN_ANSWER
            | {"access_token": "pina_2", "refresh_token": "pinr_2", "response_type": "refresh_token"}
        ),
        httpx.Response(400, json={"code": 1, "message": "Invalid refresh token"}),
    )
    tokens = await adapter.refresh("pinr_refresh")
    assert form(api.sent("POST", f"{API_URL}/oauth/token")[0]) == {
        "grant_type": "refresh_token",
        "refresh_token": "pinr_refresh",
    }
    assert (
        tokens.access_token.get_secret_value() == "pina_2"
        and tokens.refresh_token.get_secret_value() == "pinr_2"
    )  # type: ignore[union-attr]
    with pytest.raises(AuthFailure):
        await adapter.refresh("pinr_refresh")
    with pytest.raises(NotSupported):
        await adapter.revoke("pinr_2")


async def test_publishes_an_image_pin_with_link_title_and_alt_text_to_the_connections_board(pinterest):
    adapter, api = pinterest
    api.on("POST", PINS, created())

    published = await adapter.publish(
        TOKEN, pin(image(alt="a tart"), options={"link": "https://bakery.test/tart", "title": "Tart"})
    )

    assert body_json(api.sent("POST", PINS)[0]) == {
        "board_id": BOARD,
        "description": "spring tart recipe",
        "link": "https://bakery.test/tart",
        "title": "Tart",
        "alt_text": "a tart",
        "media_source": {"source_type": "image_url", "url": "https://store.test/1.jpg"},
    }
    assert published.remote_id == "813744226420795884"
    assert published.url == "https://www.pinterest.com/pin/813744226420795884/"


async def test_a_board_id_option_pins_to_another_board_of_the_same_login(pinterest):
    adapter, api = pinterest
    api.on("POST", PINS, created())
    await adapter.publish(TOKEN, pin(image(), options={"board_id": "549755885176"}))
    assert body_json(api.sent("POST", PINS)[0])["board_id"] == "549755885176"


async def test_publishes_several_images_as_a_carousel_pin(pinterest):
    adapter, api = pinterest
    api.on("POST", PINS, created())
    await adapter.publish(TOKEN, pin(image(1), image(2)))
    assert body_json(api.sent("POST", PINS)[0])["media_source"] == {
        "source_type": "multiple_image_urls",
        "items": [{"url": "https://store.test/1.jpg"}, {"url": "https://store.test/2.jpg"}],
    }


async def test_publishes_a_video_pin_after_the_upload_is_processed(pinterest):
    adapter, api = pinterest
    upload_url = "https://pinterest-media-upload.s3-accelerate.amazonaws.com/"
    api.on(
        "POST",
        f"{API_URL}/media",
        ok(
            {
                "media_id": "12345",
                "media_type": "video",
                "upload_url": upload_url,
                "upload_parameters": {"key": "uploads/x", "policy": "p0l1cy"},
            },
            status=201,
        ),
    )
    api.on("POST", upload_url, httpx.Response(204))
    api.on(
        "GET",
        f"{API_URL}/media/12345",
        ok({"media_id": "12345", "media_type": "video", "status": "processing"}),
        ok({"media_id": "12345", "media_type": "video", "status": "succeeded"}),
    )
    api.on("POST", PINS, created())
    video = MediaAttachment(content=b"mp4-bytes", mime_type="video/mp4")

    await adapter.publish(TOKEN, pin(video))

    (uploaded,) = api.sent("POST", upload_url)
    assert "authorization" not in uploaded.headers  # the bucket gets Pinterest's signed fields only
    assert b'name="policy"\r\n\r\np0l1cy' in uploaded.content and b"mp4-bytes" in uploaded.content
    assert len(api.sent("GET", f"{API_URL}/media/12345")) == 2
    assert body_json(api.sent("POST", PINS)[0])["media_source"] == {
        "source_type": "video_id",
        "media_id": "12345",
        "cover_image_key_frame_time": 0,
    }


async def test_a_pin_without_media_or_board_is_rejected_before_any_call(pinterest):
    adapter, api = pinterest
    with pytest.raises(Rejected):
        await adapter.publish(TOKEN, pin())
    with pytest.raises(Rejected):
        await adapter.publish(TOKEN, PublishRequest(text="x", media=(image(),), idempotency_key="k"))
    assert api.requests == []


async def test_a_lost_answer_is_settled_from_recent_pins_without_sending_again(pinterest):
    adapter, api = pinterest
    api.on("POST", PINS, httpx.ReadTimeout("lost"))
    api.on(
        "GET",
        PINS,
        ok({"items": [{"id": "813744226420795885", "description": "spring tart recipe"}], "bookmark": None}),
    )

    with pytest.raises(UnknownOutcome):
        await adapter.publish(TOKEN, pin(image()))
    found = await adapter.find_post_by_marker(TOKEN, "spring tart recipe")

    assert found is not None and found.remote_id == "813744226420795885"
    assert len(api.sent("POST", PINS)) == 1


async def test_rate_limited_revoked_and_refused(pinterest):
    adapter, api = pinterest
    api.on(
        "POST",
        PINS,
        httpx.Response(
            429,
            json={"code": 8, "message": "You have exceeded your rate limit. Try again later."},
            headers={"X-RateLimit-Reset": "42"},
        ),
        httpx.Response(401, json={"code": 2, "message": "Authentication failed."}),
        httpx.Response(400, json={"code": 1, "message": "Invalid link: the URL is on a blocked domain."}),
    )
    with pytest.raises(Retryable) as limited:
        await adapter.publish(TOKEN, pin(image()))
    assert limited.value.status_code == 429 and limited.value.retry_after == 42
    with pytest.raises(AuthFailure):
        await adapter.publish(TOKEN, pin(image()))
    with pytest.raises(Rejected) as refused:
        await adapter.publish(TOKEN, pin(image()))
    assert "blocked domain" in (refused.value.platform_message or "")


async def test_metrics_come_from_pin_analytics_and_likes_are_absent(pinterest):
    adapter, api = pinterest
    api.on(
        "GET",
        f"{PINS}/111/analytics",
        ok(
            {
                "all": {
                    "daily_metrics": [
                        {"data_status": "READY", "date": "2026-02-28", "metrics": {"IMPRESSION": 20}}
                    ],
                    "summary_metrics": {"IMPRESSION": 320, "SAVE": 12, "PIN_CLICK": 7, "OUTBOUND_CLICK": 3},
                    "lifetime_metrics": {},
                }
            }
        ),
    )
    api.on(
        "GET", f"{PINS}/222/analytics", httpx.Response(404, json={"code": 50, "message": "Pin not found."})
    )

    points = await adapter.fetch_metrics(TOKEN, ["111", "222"])

    sent = query(api.sent("GET", f"{PINS}/111/analytics")[0])
    assert sent["end_date"] == "2026-03-01" and sent["start_date"] == "2025-12-02"
    assert {p.name: p.value for p in points} == {MetricName.IMPRESSIONS: 320, MetricName.SAVES: 12}


async def test_post_status_of_a_deleted_pin_is_none(pinterest):
    adapter, api = pinterest
    api.on("GET", f"{PINS}/333", httpx.Response(404, json={"code": 50, "message": "Pin not found."}))
    assert await adapter.get_post_status(TOKEN, "333") is None
