"""pytest plugin exposing the stand-in as fixtures.

Register once for the whole suite in the top-level `tests/conftest.py`:

    pytest_plugins = ["tests.discord_standin.fixtures"]

(`tests/` is a package, so pytest imports this one as `tests.discord_standin`; pytest honours
`pytest_plugins` only in the top-level conftest, which is why this directory's own conftest
imports the fixtures instead.) Fixtures:

- `standin_config` → `StandinConfig()`; override it in a module or parametrize it to change knobs.
- `standin` → a running `DiscordStandin` with discord.py pointed at it for the test's duration.
  At teardown it warns (`StandinWarning`) about routes the bot called that the stand-in lacks.
- `client_options` → keyword arguments for test `discord.Client`/`commands.Bot` constructors
  that skip discord.py's 2 s wait for more guilds before READY.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest

from .errors import StandinWarning
from .server import DiscordStandin, StandinConfig


@pytest.fixture
def standin_config() -> StandinConfig:
    return StandinConfig()


@pytest.fixture
async def standin(standin_config: StandinConfig) -> AsyncIterator[DiscordStandin]:
    async with DiscordStandin(standin_config) as running:
        with running.patch_discord_py():
            yield running
        unknown = running.unknown_routes()
        if unknown:
            routes = sorted({f"{r.method} {r.path}" for r in unknown})
            warnings.warn(
                StandinWarning(f"routes unknown to the stand-in were called: {routes}"), stacklevel=1
            )


@pytest.fixture
def client_options() -> dict[str, Any]:
    return {"guild_ready_timeout": 0.05}
