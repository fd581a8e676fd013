"""A platform is offered only when its app's credentials are configured: without them connect
answers 404 (UnknownPlatform), so make up and CI run with none of them."""

import httpx
import pytest

from aligned_connections.adapters.registry import build_registry
from aligned_connections.config import Settings
from aligned_connections.domain.errors import UnknownPlatform

pytestmark = pytest.mark.unit

MAJOR = ("x", "linkedin", "youtube", "tiktok")


async def test_without_credentials_the_major_platforms_are_not_offered():
    async with httpx.AsyncClient() as http:
        registry = build_registry(Settings(), http)
    assert not set(MAJOR) & set(registry.names())
    with pytest.raises(UnknownPlatform):
        registry.get("tiktok")


async def test_each_is_offered_once_its_client_id_and_secret_are_set():
    settings = Settings(
        x_client_id="x-id",
        linkedin_client_id="li-id",
        linkedin_client_secret="li-secret",
        youtube_client_id="yt-id",
        youtube_client_secret="yt-secret",
        tiktok_client_key="tt-key",
        tiktok_client_secret="tt-secret",
    )
    async with httpx.AsyncClient() as http:
        registry = build_registry(settings, http)
    assert set(MAJOR) <= set(registry.names())
    assert all(registry.get(name).platform == name for name in MAJOR)


async def test_a_client_id_without_its_secret_is_not_enough_where_the_platform_needs_one():
    async with httpx.AsyncClient() as http:
        registry = build_registry(Settings(linkedin_client_id="li-id", tiktok_client_key="tt-key"), http)
    assert "linkedin" not in registry.names() and "tiktok" not in registry.names()
