"""Snowflake ids and timestamps shaped like Discord's."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
import time

DISCORD_EPOCH_MS = 1_420_070_400_000


class SnowflakeFactory:
    """Hands out unique, increasing snowflakes whose timestamp part is the current time.

    Safe to call from one event loop; the counter makes ids unique even within one millisecond.
    """

    def __init__(self) -> None:
        self._increment = itertools.count()

    def __call__(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(self._increment) & 0xFFF)

    def on_shard(self, shard_id: int, shard_count: int) -> int:
        """A snowflake that `(id >> 22) % shard_count` routes to `shard_id` (a guild id for a
        chosen shard); its timestamp is at most `shard_count - 1` ms ahead of now."""
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        ms += (shard_id - ms) % shard_count
        return (ms << 22) | (next(self._increment) & 0xFFF)


def iso_now() -> str:
    """The current UTC time in the ISO 8601 form Discord uses for timestamps."""
    return dt.datetime.now(dt.UTC).isoformat()


def interaction_token(interaction_id: int) -> str:
    """A long opaque token, like Discord's `aW50ZXJhY3Rpb246…` interaction tokens."""
    return f"aW50ZXJhY3Rpb246{interaction_id}" + secrets.token_urlsafe(48)
