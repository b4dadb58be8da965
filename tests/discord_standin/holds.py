"""Answers held back: Discord has done the work, the client has not heard of it yet.

`standin.hold_answers(predicate)` returns a `Hold`. A request for which `predicate(record)` is
true is handled as usual (the message is created, the request recorded with its status) but its
HTTP answer waits until `hold.release()` (or the stand-in stops). Tests use it to stop a bot in
the moment between "Discord posted it" and "the bot knows it did", where a bot that resends
must not post twice. `hold.fail(status)` releases it with an error answer instead (Discord's 5xx
after doing the work), and the request's record says what the bot was answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from .records import RecordedRequest


@dataclass
class Hold:
    """Requests matching `predicate` wait for `release()`; `held` lists them as they arrive."""

    predicate: Callable[[RecordedRequest], object]
    held: list[RecordedRequest] = field(default_factory=list)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    failure: tuple[int, dict[str, object]] | None = None
    """What the held requests are answered once released by `fail`: a status and its JSON body."""

    def release(self) -> None:
        self.released.set()

    def fail(self, status: int = 500, message: str = "Internal Server Error") -> None:
        """Release the held requests with this error, though their work is done."""
        self.failure = (status, {"message": message, "code": 0})
        self.released.set()


class Holds:
    """The holds of one stand-in, consulted once per answered request."""

    def __init__(self) -> None:
        self.active: list[Hold] = []

    def add(self, predicate: Callable[[RecordedRequest], object]) -> Hold:
        hold = Hold(predicate)
        self.active.append(hold)
        return hold

    def matching(self, record: RecordedRequest) -> Hold | None:
        """The first unreleased hold that wants this request (which it then lists)."""
        for hold in self.active:
            if not hold.released.is_set() and hold.predicate(record):
                hold.held.append(record)
                return hold
        return None

    def release_all(self) -> None:
        for hold in self.active:
            hold.release()
