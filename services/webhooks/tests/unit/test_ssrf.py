import ipaddress

import pytest

from aligned_webhooks.adapters.ssrf import RefusedTarget, TargetPolicy, address_problem, check_target

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


def test_public_addresses_pass_and_loopback_only_when_allowed():
    assert address_problem(ipaddress.ip_address("93.184.216.34"), STRICT) is None
    assert address_problem(ipaddress.ip_address("2606:4700::1111"), STRICT) is None
    assert address_problem(ipaddress.ip_address("127.0.0.1"), TargetPolicy(allow_loopback=True)) is None
    assert address_problem(ipaddress.ip_address("10.0.0.1"), TargetPolicy(allow_loopback=True)) is not None


@pytest.mark.parametrize(
    "url",
    ["http://93.184.216.34/x", "ftp://93.184.216.34/x", "https://user:pw@93.184.216.34/", "https:///nohost",
     "https://169.254.169.254/latest/meta-data", "https://10.0.0.1/", "https://localhost/"],
)
async def test_refused_urls(url):
    with pytest.raises(RefusedTarget):
        await check_target(url, STRICT)


async def test_an_allowed_url_is_pinned_to_its_checked_address():
    target = await check_target("https://93.184.216.34:8443/hook", STRICT)
    assert str(target.address) == "93.184.216.34" and target.host == "93.184.216.34"
