"""Refuse outbound targets inside our own network (SSRF).

A brand chooses the URLs we call (webhooks we POST to, feeds we poll), so without this guard it
could make us call the cloud metadata service (169.254.169.254), a database on 10.x, or our own
services on loopback. The host is resolved and EVERY address checked, at registration and again
right before each request (DNS can change in between); the request is then sent to the address
that was checked, so a second lookup cannot swap in an internal address (DNS rebinding).
One function for every service that calls out, so a fix to the guard protects all of them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedTarget(ValueError):
    """The URL may not be called; the message says why (shown to the brand)."""


@dataclass(frozen=True)
class TargetPolicy:
    allow_loopback: bool = False
    allow_http: bool = False


@dataclass(frozen=True)
class CheckedTarget:
    url: str  # as registered
    host: str
    address: IpAddress  # the checked address the request must go to


NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the low 32 bits are the IPv4 address
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: each network chooses the embedding


def embedded_ipv4(address: IpAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: a packet to it reaches them."""
    if isinstance(address, ipaddress.IPv4Address):
        return []
    if address.ipv4_mapped is not None:  # ::ffff:10.0.0.1
        return [address.ipv4_mapped]
    if address in NAT64_WELL_KNOWN:  # 64:ff9b::10.0.0.1, translated by a NAT64 gateway
        return [ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)]
    if address.sixtofour is not None:  # 2002:0a00:0001::/48 is 10.0.0.1's 6to4 network
        return [address.sixtofour]
    if address.teredo is not None:  # 2001:0::/32 names a Teredo server and client
        return list(address.teredo)
    if int(address) >> 32 == 0 and int(address) > 1:  # IPv4-compatible ::10.0.0.1 (not :: or ::1)
        return [ipaddress.IPv4Address(int(address))]
    return []


def address_problem(address: IpAddress, policy: TargetPolicy) -> str | None:
    """Why this address may not be a target, or None when it may.

    An IPv6 address that wraps an IPv4 one (mapped, IPv4-compatible, NAT64, 6to4, Teredo) is
    judged by what it wraps: 64:ff9b::a9fe:a9fe is the metadata service, 169.254.169.254.
    """
    if isinstance(address, ipaddress.IPv6Address) and address in NAT64_LOCAL_USE:
        return "NAT64 local-use address"
    inner = embedded_ipv4(address)
    if inner:
        for wrapped in inner:
            problem = address_problem(wrapped, policy)
            if problem:
                return f"{problem} ({wrapped}, wrapped in an IPv6 address)"
        return None
    if address.is_loopback:
        return None if policy.allow_loopback else "loopback address"
    # Order matters: link-local and the like are also "private" in Python's table, and the
    # more specific reason is more useful to whoever registered the URL.
    checks = (
        ("link-local address", address.is_link_local),
        ("multicast address", address.is_multicast),
        ("unspecified address", address.is_unspecified),
        ("reserved address", address.is_reserved),
        ("private address", address.is_private),
        ("non-global address", not address.is_global),
    )
    return next((reason for reason, hit in checks if hit), None)


def check_url_shape(url: str, policy: TargetPolicy) -> tuple[str, int]:
    """Scheme, host and port of a target URL, or RefusedTarget."""
    parts = urlsplit(url)
    allowed_schemes = ("https", "http") if policy.allow_http else ("https",)
    if parts.scheme not in allowed_schemes:
        raise RefusedTarget(f"the URL scheme must be {' or '.join(allowed_schemes)}")
    if not parts.hostname:
        raise RefusedTarget("the URL has no host")
    if parts.username or parts.password:
        raise RefusedTarget("credentials in the URL are not allowed")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise RefusedTarget("the URL has an invalid port") from error
    return parts.hostname, port


async def resolve(host: str, port: int) -> list[IpAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise RefusedTarget(f"the host {host!r} does not resolve") from error
    # Scope ids (fe80::1%eth0) are dropped: the address itself decides.
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))


async def check_target(url: str, policy: TargetPolicy, *, purpose: str = "receive webhooks") -> CheckedTarget:
    """Resolve and check; raises RefusedTarget before any connection is made.

    purpose completes the refusal ("it cannot <purpose>") so the brand reads what was refused.
    """
    host, port = check_url_shape(url, policy)
    addresses = await resolve(host, port)
    if not addresses:
        raise RefusedTarget(f"the host {host!r} does not resolve")
    for address in addresses:
        problem = address_problem(address, policy)
        if problem:
            # One bad address refuses the host: otherwise a name with a public and a private
            # address would reach the private one whenever the resolver ordered it first.
            raise RefusedTarget(f"{host} resolves to {address}, a {problem}; it cannot {purpose}")
    return CheckedTarget(url=url, host=host, address=addresses[0])


def pinned(target: CheckedTarget) -> tuple[httpx.URL, dict[str, str], dict]:
    """The URL with its host replaced by the checked address, the Host header and TLS name to keep
    virtual hosting and certificate checks working against the original name."""
    url = httpx.URL(target.url)
    address = str(target.address)
    host_header = url.netloc.decode("ascii").rsplit("@", 1)[-1]
    extensions = {"sni_hostname": target.host} if url.scheme == "https" else {}
    return url.copy_with(host=address), {"host": host_header}, extensions
