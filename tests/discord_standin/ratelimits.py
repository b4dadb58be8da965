"""Discord's rate limits as the stand-in models them: per-route buckets, the global limit, and
429s injected by a test.

- Per route: `StandinConfig.route_limits` maps `"METHOD /template"` (a route of `rest.py`, e.g.
  `"POST /channels/{channel_id}/messages"`) to `(limit, per_s)`. A bucket is that route plus its
  major parameter (channel, guild, or webhook id and token), shared by every client with the bot
  token, so several processes of one bot drain it together, as on Discord. Every answer on such
  a route carries Discord's headers (`X-RateLimit-Limit`, `-Remaining`, `-Reset`,
  `-Reset-After`, `-Bucket`, `-Scope`); a request over the limit gets 429 with `Retry-After`
  and `{"message", "retry_after", "global": false, "code": 0}`.
- Global: `StandinConfig.global_limit` requests per second over all bot-token routes (Discord:
  50); interaction callbacks and interaction webhooks are exempt, as on Discord. Over it: 429
  with `X-RateLimit-Global: true` and `"global": true`.
- Injected: `DiscordStandin.rate_limits.inject(...)` answers the next matching request(s) with a
  429 of the given scope, whatever the counters say (Discord's `shared` limits arrive that way).

Every 429 carries `Via: 1.1 google`: discord.py takes a 429 without `Via` for a Cloudflare ban
and raises instead of waiting. Windows are measured with `time.monotonic()`.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAJOR_PARAMETERS = ("channel_id", "guild_id", "webhook_id", "app_id", "interaction_id")
EXEMPT_FROM_GLOBAL = ("/interactions/", "/webhooks/")


@dataclass
class _Window:
    limit: int
    per_s: float
    remaining: int = 0
    reset_at: float = 0.0

    def take(self, now: float) -> float:
        """Use one request; return 0.0, or the seconds to wait when the window is spent."""
        if now >= self.reset_at:
            self.remaining, self.reset_at = self.limit, now + self.per_s
        if self.remaining <= 0:
            return self.reset_at - now
        self.remaining -= 1
        return 0.0


@dataclass
class Injected:
    """A 429 a test asked for: `matches(method, path)`, how many are left, and their shape."""

    matches: Callable[[str, str], bool]
    count: int
    retry_after: float
    scope: str
    sent: int = 0


@dataclass
class Limited:
    """The outcome of `RateLimits.check`: headers for the answer, and a 429 body when refused."""

    headers: dict[str, str]
    refusal: dict[str, Any] | None = None


class RateLimits:
    """Counters for one stand-in; `check` is called once per REST request, before its handler."""

    def __init__(self, route_limits: dict[str, tuple[int, float]], global_limit: int | None) -> None:
        self.route_limits = dict(route_limits)
        self.global_limit = global_limit
        self._buckets: dict[tuple[str, str], _Window] = {}
        self._global = _Window(global_limit or 0, 1.0)
        self.injected: list[Injected] = []
        self.refused = 0
        """429s answered so far (counted and injected)."""

    def inject(
        self,
        matches: Callable[[str, str], bool] | None = None,
        *,
        count: int = 1,
        retry_after: float = 0.05,
        scope: str = "user",
    ) -> Injected:
        """Answer the next `count` requests for which `matches(method, path)` holds with a 429
        (`scope`: user, shared, or global); returns the record, whose `sent` counts them."""
        entry = Injected(matches or (lambda m, p: True), count, retry_after, scope)
        self.injected.append(entry)
        return entry

    def check(self, method: str, template: str, params: dict[str, str], path: str, auth: bool) -> Limited:
        now = time.monotonic()
        for entry in self.injected:
            if entry.sent < entry.count and entry.matches(method, path):
                entry.sent += 1
                return self._refuse({}, entry.retry_after, entry.scope)
        if auth and self.global_limit and not path.startswith(EXEMPT_FROM_GLOBAL):
            wait = self._global.take(now)
            if wait > 0:
                return self._refuse({}, wait, "global")
        limit = self.route_limits.get(f"{method} {template}")
        if limit is None:
            return Limited({})
        major = next((params[p] for p in MAJOR_PARAMETERS if p in params), "")
        if "token" in params:
            major += ":" + params["token"]
        window = self._buckets.setdefault((f"{method} {template}", major), _Window(*limit))
        wait = window.take(now)
        headers = self._headers(f"{method} {template}", window, now)
        if wait > 0:
            return self._refuse(headers, wait, "user")
        return Limited(headers)

    @staticmethod
    def _headers(route: str, window: _Window, now: float) -> dict[str, str]:
        reset_after = max(0.0, window.reset_at - now)
        return {
            "X-RateLimit-Limit": str(window.limit),
            "X-RateLimit-Remaining": str(window.remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": hashlib.sha1(route.encode()).hexdigest()[:16],
        }

    def _refuse(self, headers: dict[str, str], wait: float, scope: str) -> Limited:
        self.refused += 1
        is_global = scope == "global"
        wait = round(max(wait, 0.001), 3)
        headers = {
            **headers,
            "Retry-After": str(max(1, math.ceil(wait))),
            "X-RateLimit-Scope": scope,
            "Via": "1.1 google",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        body = {"message": "You are being rate limited.", "retry_after": wait, "global": is_global, "code": 0}
        return Limited(headers, body)
