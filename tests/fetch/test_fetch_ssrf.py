"""The SSRF guard: private, loopback and link-local addresses are refused unless allowed."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

import pytest
from foreign_desk.index.config import Settings, load_settings
from foreign_desk.index.fetch import AddressRefused, Fetcher
from foreign_desk.index.fetch.ssrf import blocked_reason

from tests.fetch.fixture_server import FixtureServer


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.9.9.9", "loopback"),
        ("10.20.30.40", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.10", "private"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.251", "multicast"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("240.0.0.1", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fd12:3456::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),
    ],
)
def test_blocked_reason(address: str, reason: str | None) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:{port}",
        "localhost:{port}",
        "[::1]:{port}",
        "10.20.30.40",
        "169.254.169.254",
        "192.168.0.1:8080",
    ],
)
async def test_private_targets_are_refused_by_default(news_server: FixtureServer, host: str) -> None:
    news_server.serve("/admin", "<html><body><p>secret</p></body></html>")

    async with Fetcher(allow_private=False, timeout_s=2.0) as fetcher:
        with pytest.raises(AddressRefused, match=r"refused to fetch .*address; set allow_private_urls"):
            await fetcher.fetch_page(f"http://{host.format(port=news_server.port)}/admin")

    assert news_server.requests == []  # refused before any connection
    assert fetcher.requests_sent == 0  # not even to the unroutable ones


@pytest.mark.parametrize(
    ("settings", "allowed"),
    [
        (Settings(), False),
        (Settings(allow_private_urls=True), True),
        (load_settings(environ={"FOREIGN_DESK_ALLOW_PRIVATE_URLS": "1"}), True),
        (load_settings(environ={"FOREIGN_DESK_ALLOW_PRIVATE_URLS": "0"}), False),
    ],
)
async def test_allow_private_comes_from_settings(
    news_server: FixtureServer, settings: Settings, allowed: bool
) -> None:
    news_server.serve("/intranet", "<html><body><p>ok</p></body></html>")

    async with Fetcher.from_settings(settings) as fetcher:
        if allowed:
            assert (await fetcher.fetch_page(news_server.url("/intranet"))).status == 200
        else:
            with pytest.raises(AddressRefused):
                await fetcher.fetch_page(news_server.url("/intranet"))


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://127.0.0.2:{port}/page",
        "http://[::1]:{port}/page",
    ],
)
async def test_every_redirect_hop_is_checked(
    news_server: FixtureServer, fetcher: Fetcher, target: str
) -> None:
    """The fetcher trusts 127.0.0.1 only (the server); a redirect anywhere else private is refused."""
    news_server.serve("/page", "<html><body><p>inside</p></body></html>")
    news_server.redirect("/go", target.format(port=news_server.port))

    with pytest.raises(AddressRefused):
        await fetcher.fetch_page(news_server.url("/go"))
    assert [r.path for r in news_server.requests] == ["/go"]


def _fake_dns(answers: dict[str, list[list[str]]], calls: list[str]) -> Any:
    """A getaddrinfo that answers from ``answers``, a new answer per call (DNS rebinding)."""

    async def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[tuple[Any, ...]]:
        calls.append(host)
        sequence = answers[host]
        addresses = sequence[min(len(calls) - 1, len(sequence) - 1)]
        infos = []
        for address in addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
            infos.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
        return infos

    return getaddrinfo


async def test_connection_is_pinned_to_the_checked_address(
    news_server: FixtureServer, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First answer 127.0.0.1 (trusted), any later answer 10.0.0.1: the fetch must use the first."""
    news_server.serve("/story", "<html><body><p>pinned</p></body></html>")
    calls: list[str] = []
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", _fake_dns({"rebind.test": [["127.0.0.1"], ["10.0.0.1"]]}, calls))

    result = await fetcher.fetch_page(f"http://rebind.test:{news_server.port}/story")

    assert b"pinned" in result.body
    assert calls == ["rebind.test"]  # one lookup: the connection did not resolve again


async def test_host_with_any_private_address_is_refused(
    fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(
        loop, "getaddrinfo", _fake_dns({"mixed.test": [["93.184.216.34", "10.1.1.1"]]}, calls)
    )

    with pytest.raises(AddressRefused, match=r"mixed.test \(10.1.1.1\): private"):
        await fetcher.fetch_page("http://mixed.test/article")
