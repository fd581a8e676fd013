import ipaddress

import pytest

from aligned_common.ssrf import RefusedTarget, TargetPolicy, address_problem, check_target

pytestmark = pytest.mark.unit

STRICT = TargetPolicy()


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("169.254.169.254", "link-local"),
        ("10.0.0.1", "private"),
        ("192.168.1.1", "private"),
        ("172.16.0.5", "private"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-global"),
    ],
)
def test_internal_addresses_are_refused(address, reason):
    assert reason in address_problem(ipaddress.ip_address(address), STRICT)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        # IPv4-mapped and IPv4-compatible
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::10.0.0.1", "private"),
        ("::169.254.169.254", "link-local"),
        ("::127.0.0.1", "loopback"),
        # NAT64, well-known prefix (RFC 6052) and local-use prefix (RFC 8215)
        ("64:ff9b::10.0.0.1", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("64:ff9b::7f00:1", "loopback"),
        ("64:ff9b:1::a00:1", "NAT64 local-use"),
        # 6to4 (2002::/16): the IPv4 address is bits 16-48
        ("2002:a00:1::", "private"),
        ("2002:a9fe:a9fe::1", "link-local"),
        ("2002:7f00:1::", "loopback"),
        ("2002:c0a8:101:1::1", "private"),
        # Teredo: server 65.54.227.120, client (obfuscated) 10.0.0.1
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private"),
    ],
)
def test_ipv6_addresses_that_wrap_an_internal_ipv4_address_are_refused(address, reason):
    problem = address_problem(ipaddress.ip_address(address), STRICT)
    assert problem is not None and reason in problem, problem


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"])
def test_ipv6_addresses_that_wrap_a_public_ipv4_address_pass(address):
    assert address_problem(ipaddress.ip_address(address), STRICT) is None


async def test_a_url_with_a_wrapped_internal_address_is_refused_before_any_connection():
    with pytest.raises(RefusedTarget, match=r"169\.254\.169\.254"):
        await check_target("https://[64:ff9b::a9fe:a9fe]/latest/meta-data", STRICT)
    with pytest.raises(RefusedTarget, match=r"10\.0\.0\.1"):
        await check_target("https://[2002:a00:1::1]/hook", STRICT)


def test_public_addresses_pass_and_loopback_only_when_allowed():
    assert address_problem(ipaddress.ip_address("93.184.216.34"), STRICT) is None
    assert address_problem(ipaddress.ip_address("2606:4700::1111"), STRICT) is None
    assert address_problem(ipaddress.ip_address("127.0.0.1"), TargetPolicy(allow_loopback=True)) is None
    assert address_problem(ipaddress.ip_address("10.0.0.1"), TargetPolicy(allow_loopback=True)) is not None


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/x",
        "ftp://93.184.216.34/x",
        "https://user:pw@93.184.216.34/",
        "https:///nohost",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/",
        "https://localhost/",
    ],
)
async def test_refused_urls(url):
    with pytest.raises(RefusedTarget):
        await check_target(url, STRICT)


async def test_an_allowed_url_is_pinned_to_its_checked_address():
    target = await check_target("https://93.184.216.34:8443/hook", STRICT)
    assert str(target.address) == "93.184.216.34" and target.host == "93.184.216.34"


async def test_the_refusal_names_what_the_url_was_for() -> None:
    # Feeds share the guard with webhooks; the brand must read "poll feeds", not "receive webhooks".
    with pytest.raises(RefusedTarget, match="it cannot be polled as a feed"):
        await check_target("https://10.0.0.1/feed.xml", STRICT, purpose="be polled as a feed")
