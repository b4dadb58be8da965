"""Point an unmodified discord.py at the stand-in, and put it back afterwards.

discord.py 2.7 builds every REST URL — bot routes and the interaction webhooks of
`discord/webhook/async_.py`, which import the same `Route` — from the class attribute
`discord.http.Route.BASE`; `Webhook.url` is only a display string. A plain `Client` never asks
`/gateway/bot` where to connect: it opens `DiscordWebSocket.DEFAULT_GATEWAY` (and returns to it
after an INVALID_SESSION), and only `AutoShardedClient` reads the URL from `/gateway/bot`. So two
class attributes are patched; nothing else in discord.py is touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import yarl


@contextmanager
def point_discord_py_at(http_url: str, gateway_url: str) -> Iterator[None]:
    """Patch `Route.BASE` to `<http_url>/api/v<same version>` and the default gateway URL.

    The API version discord.py was configured with (9 or 10) is kept. Restores both on exit,
    also when nested or when the body raises. Not thread-safe: one event loop at a time.
    """
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    version = old_base.rsplit("/v", 1)[-1]
    Route.BASE = f"{http_url}/api/v{version}"
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway
