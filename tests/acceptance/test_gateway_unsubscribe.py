"""The unsubscribe link in a client's mails works: it points at the gateway, which routes it,
without a login, to the approval service that checks the signed token."""

from __future__ import annotations

import urllib.parse

import httpx
import pytest

from aligned_common.testing.gateway_client import BrandSetup

pytestmark = pytest.mark.e2e


async def test_the_unsubscribe_link_of_a_mail_unsubscribes_the_client(brand: BrandSetup) -> None:
    assert brand.client is not None
    settings = await brand.owner.api.request("PUT", f"/v1/client-settings/{brand.client.email}", json_body={})
    link = urllib.parse.urlparse(settings["unsubscribe_url"])
    gateway = urllib.parse.urlparse(brand.owner.api.base_urls[0])
    assert (link.hostname, link.port) == (gateway.hostname, gateway.port) and link.path.startswith("/unsubscribe/")
    async with httpx.AsyncClient(base_url=brand.owner.api.base_urls[0], timeout=30) as browser:  # no token
        clicked = await browser.get(link.path)
        assert clicked.status_code == 200, clicked.text
        assert clicked.json()["unsubscribed"] is True
        forged = await browser.get(link.path[:-3] + "xyz")
        assert forged.status_code == 404 and forged.json()["title"] == "Unsubscribe link not found"
    now = await brand.owner.api.get(f"/v1/client-settings/{brand.client.email}")
    assert now["subscribed"] is False
