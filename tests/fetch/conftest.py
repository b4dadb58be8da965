"""Fixtures for fetch tests: a loopback news server and a fetcher that trusts only 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from foreign_desk.index.fetch import Fetcher

from tests.fetch.fixture_server import LOOPBACK_ONLY, FixtureServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "realdata: reads the real files of ../shared/data in place (skipped when absent)"
    )


@pytest.fixture
async def news_server() -> AsyncIterator[FixtureServer]:
    """A running ``FixtureServer`` on 127.0.0.1 (ephemeral port), closed after the test."""
    async with FixtureServer() as server:
        yield server


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    """A ``Fetcher`` that may reach the fixture server and no other private address."""
    async with Fetcher(policy=LOOPBACK_ONLY, timeout_s=2.0, max_bytes=300_000, max_redirects=3) as f:
        yield f
