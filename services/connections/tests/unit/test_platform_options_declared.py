"""Every per-platform field the catalogue declares is one its adapter reads: a name publishing
accepts but the adapter ignores would be a promise silently broken."""

from __future__ import annotations

import inspect
import re

import pytest

from aligned_common.platforms import PLATFORMS
from aligned_connections.adapters.platforms import (
    facebook,
    instagram,
    linkedin,
    pinterest,
    sandbox,
    threads,
    tiktok,
    x,
    youtube,
)

pytestmark = pytest.mark.unit

ADAPTERS = {
    "sandbox": sandbox,
    "x": x,
    "linkedin": linkedin,
    "youtube": youtube,
    "tiktok": tiktok,
    "facebook": facebook,
    "instagram": instagram,
    "threads": threads,
    "pinterest": pinterest,
}


def names_read(module) -> set[str]:
    source = inspect.getsource(module)
    read = set(re.findall(r"""options\.get\(\s*["']([a-z_A-Z]+)["']""", source))
    read |= set(re.findall(r"""options\[["']([a-z_A-Z]+)["']\]""", source))
    read |= set(re.findall(r"""["']([a-z_]+)["'] in options""", source))
    # tiktok's flag(name) helper reads its names through a variable
    read |= set(re.findall(r"""flag\(["']([a-z_]+)["']""", source))
    # pinterest loops over ("link", "title")
    for group in re.findall(r"""for field in \(([^)]*)\):\s*\n\s*if value := request\.options""", source):
        read |= set(re.findall(r"""["']([a-z_]+)["']""", group))
    return read


@pytest.mark.parametrize("platform", sorted(ADAPTERS))
def test_each_declared_option_is_read_by_the_adapter(platform: str) -> None:
    declared = {option.name for option in PLATFORMS[platform].options}
    assert declared <= names_read(ADAPTERS[platform]), declared - names_read(ADAPTERS[platform])


@pytest.mark.parametrize("platform", ["mastodon", "bluesky"])
def test_platforms_whose_adapters_read_no_options_declare_none(platform: str) -> None:
    assert PLATFORMS[platform].options == ()
