import pytest

from aligned_common.platforms import ConnectFlow, UnknownPlatform, WebhookScheme, get_platform, platform_names

pytestmark = pytest.mark.unit


def test_catalogue_knows_the_supported_platforms():
    assert set(platform_names()) >= {
        "sandbox",
        "mastodon",
        "bluesky",
        "x",
        "linkedin",
        "youtube",
        "tiktok",
        "facebook",
        "instagram",
        "threads",
        "pinterest",
    }


def test_lookup_ignores_case_and_surrounding_spaces():
    assert get_platform(" Mastodon ").name == "mastodon"


def test_unknown_platform_is_a_typed_error_naming_the_platform():
    with pytest.raises(UnknownPlatform) as raised:
        get_platform("myspace")
    assert raised.value.name == "myspace"
    assert "sandbox" in str(raised.value)


def test_bluesky_connects_with_an_app_password_and_the_others_with_oauth():
    assert get_platform("bluesky").connect_flow is ConnectFlow.APP_PASSWORD
    assert get_platform("mastodon").connect_flow is ConnectFlow.OAUTH2_PKCE


def test_only_the_sandbox_sends_standard_webhooks():
    assert get_platform("sandbox").webhook_scheme is WebhookScheme.STANDARD_WEBHOOKS
    assert get_platform("bluesky").webhook_scheme is None


def test_limits_serialize_for_a_client_to_show():
    limits = get_platform("x").limits.model_dump(mode="json")
    assert limits["text"] == {"max_length": 280, "counting": "twitter_weighted", "max_utf8_bytes": None}


def test_meta_platforms_sign_their_webhooks_with_the_hub_signature():
    for name in ("facebook", "instagram", "threads"):
        assert get_platform(name).webhook_scheme is WebhookScheme.META_HUB_SIGNATURE
