"""Which platforms this deployment can talk to, built from the settings."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from aligned_connections.adapters.platforms import (
    BlueskyAdapter,
    FacebookAdapter,
    InstagramAdapter,
    MastodonAdapter,
    PinterestAdapter,
    PlatformAdapter,
    SandboxAdapter,
    ThreadsAdapter,
)
from aligned_connections.adapters.platforms.linkedin import LinkedInAdapter
from aligned_connections.adapters.platforms.tiktok import TikTokAdapter
from aligned_connections.adapters.platforms.x import XAdapter
from aligned_connections.adapters.platforms.youtube import YouTubeAdapter
from aligned_connections.config import Settings
from aligned_connections.domain.errors import UnknownPlatform


class PlatformRegistry:
    def __init__(self, adapters: dict[str, PlatformAdapter]) -> None:
        self._adapters = adapters

    def get(self, name: str) -> PlatformAdapter:
        adapter = self._adapters.get(name)
        if adapter is None:
            known = ", ".join(sorted(self._adapters)) or "none"
            raise UnknownPlatform(f"platform {name!r} is not available here (available: {known})")
        return adapter

    def names(self) -> list[str]:
        return sorted(self._adapters)


def timeout_of(settings: Settings) -> httpx.Timeout:
    connect = settings.platform_connect_timeout_s
    return httpx.Timeout(connect=connect, read=settings.platform_read_timeout_s, write=connect, pool=connect)


def build_registry(settings: Settings, http: httpx.AsyncClient) -> PlatformRegistry:
    timeout = timeout_of(settings)
    adapters: dict[str, PlatformAdapter] = {}
    if settings.sandbox_url:
        adapters["sandbox"] = SandboxAdapter(
            settings.sandbox_url,
            settings.sandbox_client_id,
            http_client=http,
            webhook_secrets=[secret.get_secret_value() for secret in settings.sandbox_webhook_secrets],
            timeout=timeout,
        )
    if settings.mastodon_instance_url and settings.mastodon_client_id and settings.mastodon_client_secret:
        adapters["mastodon"] = MastodonAdapter(
            settings.mastodon_instance_url,
            settings.mastodon_client_id,
            settings.mastodon_client_secret.get_secret_value(),
            http_client=http,
            timeout=timeout,
        )
    if settings.bluesky_service_url:
        adapters["bluesky"] = BlueskyAdapter(settings.bluesky_service_url, http_client=http, timeout=timeout)
    if settings.x_client_id:
        adapters["x"] = XAdapter(
            settings.x_client_id,
            _secret(settings.x_client_secret),
            http_client=http,
            timeout=timeout,
        )
    if settings.linkedin_client_id and settings.linkedin_client_secret:
        adapters["linkedin"] = LinkedInAdapter(
            settings.linkedin_client_id,
            settings.linkedin_client_secret.get_secret_value(),
            http_client=http,
            api_version=settings.linkedin_api_version,
            pages=settings.linkedin_pages,
            timeout=timeout,
        )
    if settings.youtube_client_id and settings.youtube_client_secret:
        adapters["youtube"] = YouTubeAdapter(
            settings.youtube_client_id,
            settings.youtube_client_secret.get_secret_value(),
            http_client=http,
            timeout=timeout,
        )
    if settings.tiktok_client_key and settings.tiktok_client_secret:
        adapters["tiktok"] = TikTokAdapter(
            settings.tiktok_client_key,
            settings.tiktok_client_secret.get_secret_value(),
            http_client=http,
            timeout=timeout,
        )
    if settings.meta_app_id and settings.meta_app_secret:
        meta_secret = settings.meta_app_secret.get_secret_value()
        adapters["facebook"] = FacebookAdapter(
            settings.meta_app_id, meta_secret, http_client=http, timeout=timeout
        )
        adapters["instagram"] = InstagramAdapter(
            settings.meta_app_id, meta_secret, http_client=http, timeout=timeout
        )
    if settings.threads_app_id and settings.threads_app_secret:
        adapters["threads"] = ThreadsAdapter(
            settings.threads_app_id,
            settings.threads_app_secret.get_secret_value(),
            http_client=http,
            timeout=timeout,
        )
    if settings.pinterest_app_id and settings.pinterest_app_secret:
        adapters["pinterest"] = PinterestAdapter(
            settings.pinterest_app_id,
            settings.pinterest_app_secret.get_secret_value(),
            http_client=http,
            timeout=timeout,
        )
    return PlatformRegistry(adapters)


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
