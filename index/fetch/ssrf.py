"""Server-side request forgery guard: only public addresses are fetched, unless allowed.

A feed or a user can name any URL; without this guard ``ingest http://169.254.169.254/``
would read cloud credentials and ``http://localhost:8080/admin`` would poke local services.

The host is resolved once (``loop.getaddrinfo``, so the loop never blocks), every address
it resolves to is checked, and the connection is made to exactly those addresses:
``GuardedResolver`` is the aiohttp resolver, so the check and the connect share one
lookup and a DNS answer that changes in between (rebinding) cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp.abc import AbstractResolver, ResolveResult
from foreign_desk.index.config import ENV_PREFIX
from foreign_desk.index.fetch.errors import AddressRefused, ConnectionFailed

log = logging.getLogger(__name__)

__all__ = ["AddressPolicy", "GuardedResolver", "blocked_reason", "without_host_advice"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
HOST_ADVICE = f"; set allow_private_urls = true (or {ENV_PREFIX}ALLOW_PRIVATE_URLS=1) to allow"
"""What a refusal tells the host's operators to change: the setting, and its environment variable."""
_HOST_ADVICE = re.compile(r"; set allow_private_urls = true[^;\n]*? to allow")  # earlier wordings too
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT


def blocked_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address, or ``None`` when it is one.

    IPv6 addresses that carry an IPv4 address (mapped ``::ffff:a.b.c.d``, NAT64, 6to4,
    Teredo) are judged by the IPv4 address inside as well.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%")[0])
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket
            return blocked_reason(ip.ipv4_mapped)
        embedded = [ip.sixtofour]
        if ip.teredo:
            embedded.append(ip.teredo[1])
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        for inner in embedded:
            if inner is not None and (reason := blocked_reason(inner)):
                return reason
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("shared (carrier-grade NAT)", ip in _SHARED),
        ("private", ip.is_private),
        ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
        ("not globally routable", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses may be fetched.

    ``allow_private`` lets everything through (``Settings.allow_private_urls``).
    ``allowed_networks`` are exceptions the operator trusts (an intranet feed host, the
    tests' loopback server) while everything else private stays refused.
    """

    allow_private: bool = False
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def trusting(cls, networks: Iterable[str]) -> AddressPolicy:
        return cls(allowed_networks=tuple(ipaddress.ip_network(n, strict=False) for n in networks))

    def check(self, host: str, address: str) -> None:
        """Raise ``AddressRefused`` unless a connection to ``address`` (for ``host``) is allowed."""
        if self.allow_private:
            return
        ip = ipaddress.ip_address(address.split("%")[0])
        if any(ip.version == net.version and ip in net for net in self.allowed_networks):
            return
        reason = blocked_reason(ip)
        if reason:
            shown = host if host == address else f"{host} ({address})"
            raise AddressRefused(
                f"refused to fetch {shown}: {reason} address{HOST_ADVICE}",
                host=host,
                address=address,
            )


def without_host_advice(text: str) -> str:
    """``text`` (a refusal, or a failure recorded or reported quoting one) without the advice to
    change the host's settings: for readers who cannot (a Discord server's admins)."""
    return _HOST_ADVICE.sub("", text)


def literal_ip(host: str) -> str | None:
    """The host itself when it is an IP literal (``[::1]`` brackets removed), else ``None``."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(bare.split("%")[0])
    except ValueError:
        return None
    return bare


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that resolves, checks every address, and returns only checked ones.

    ``check`` resolves ahead of the request (to fail early with a clear message) and pins
    the answer; ``resolve``, called by aiohttp's connector, hands out the pinned answer or
    resolves and checks again. Either way the socket goes to an address that was checked.
    Safe to share between concurrent requests on one loop.
    """

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self._pins: dict[tuple[str, int], list[ResolveResult]] = {}

    async def check(self, host: str, port: int) -> list[ResolveResult]:
        """Resolve ``host`` and refuse it when any address is not allowed; pin the answer."""
        key = (host.lower().rstrip("."), port)
        ip = literal_ip(host)
        if ip is not None:
            self.policy.check(host, ip)
            return [_result(host, ip, port, socket.AF_INET6 if ":" in ip else socket.AF_INET)]
        results = await self._lookup(host, port, socket.AF_UNSPEC)
        for result in results:
            self.policy.check(host, result["host"])
        self._pins[key] = results
        return results

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        pinned = self._pins.pop((host.lower().rstrip("."), port), None)
        results = pinned if pinned is not None else await self.check(host, port)
        if family != socket.AF_UNSPEC:
            results = [r for r in results if r["family"] == family] or results
        return results

    async def close(self) -> None:
        self._pins.clear()

    @staticmethod
    async def _lookup(host: str, port: int, family: int) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, family=family)
        except (socket.gaierror, UnicodeError) as exc:
            raise ConnectionFailed(f"cannot resolve host {host}: {exc}") from None
        results: list[ResolveResult] = []
        seen: set[str] = set()
        for fam, _type, _proto, _canon, sockaddr in infos:
            address = str(sockaddr[0])
            if fam == socket.AF_INET6 and len(sockaddr) > 3 and sockaddr[3]:
                address = f"{address.split('%')[0]}%{sockaddr[3]}"
            if address in seen:
                continue
            seen.add(address)
            results.append(_result(host, address, port, socket.AddressFamily(fam)))
        if not results:
            raise ConnectionFailed(f"cannot resolve host {host}: no addresses")
        return results


def _result(host: str, address: str, port: int, family: socket.AddressFamily) -> ResolveResult:
    return {
        "hostname": host,
        "host": address,
        "port": port,
        "family": family,
        "proto": 0,
        "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
    }
