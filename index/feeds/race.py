"""Two waits, the first to end wins: a catch-up against losing its claim, a pause against a wake."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any


async def first_of(*waits: Awaitable[Any]) -> Sequence[asyncio.Future[Any]]:
    """Run ``waits`` until one ends, then cancel the others and wait for them to stop; returns
    their futures in order (a caller reads the result or error of the one it cares about)."""
    futures = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for future in futures:
            future.cancel()
        await asyncio.gather(*futures, return_exceptions=True)
    return futures
