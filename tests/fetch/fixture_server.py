"""A real aiohttp HTTP server on 127.0.0.1 that serves news fixtures, for fetch, feed and bot tests.

Routes can be changed while the server runs (``serve`` again to update an article or a
feed), and every request is recorded (``requests``, ``requests_to``) so a test can check
what the client sent: a User-Agent, an ``If-None-Match``, how many times a page was hit.

    from tests.fetch.fixture_server import LOOPBACK_ONLY, FixtureServer

    async with FixtureServer() as server:
        server.serve_fixture("/rss", "guardian_world.rss")
        server.serve("/page", "<html>...</html>", etag='"v1"')
        server.redirect("/old", "/page")
        async with Fetcher(policy=LOOPBACK_ONLY) as fetcher:
            await fetcher.fetch_feed(server.url("/rss"))

Text fixtures may contain ``{{BASE}}``; ``serve_fixture`` replaces it with the server's base
URL (bytes-level, so a Latin-1 fixture stays Latin-1).
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from foreign_desk.index.fetch.ssrf import AddressPolicy

FIXTURES = Path(__file__).resolve().parent / "fixtures"

LOOPBACK_ONLY = AddressPolicy.trusting(["127.0.0.1/32"])
"""A fetch policy for tests: this server (127.0.0.1) is reachable, every other private address
stays refused. ``Fetcher(policy=LOOPBACK_ONLY)``."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_TYPES = {
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".xml": "application/xml",
    ".html": "text/html; charset=utf-8",
    ".pdf": "application/pdf",
    ".png": "image/png",
}


@dataclass
class Route:
    """What one path answers. ``etag`` / ``last_modified`` make it answer 304 to a matching
    conditional request; ``delay`` sleeps before answering (timeouts)."""

    body: bytes = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    handler: Handler | None = None


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    at: float


def fixture_bytes(name: str) -> bytes:
    """The raw bytes of ``tests/fetch/fixtures/<name>``."""
    return (FIXTURES / name).read_bytes()


class FixtureServer:
    """Loopback HTTP server with runtime-changeable routes and a request log."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.routes: dict[str, Route] = {}
        self.requests: list[RecordedRequest] = []
        self._runner: web.AppRunner | None = None

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> FixtureServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # handler_cancellation: a client that gave up (timeout test) stops the handler, and a
        # short shutdown_timeout keeps teardown fast.
        self._runner = web.AppRunner(app, shutdown_timeout=0.2, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FixtureServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- addresses ------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    # -- routes ---------------------------------------------------------------------------
    def serve(
        self,
        path: str,
        body: bytes | str,
        *,
        status: int = 200,
        content_type: str | None = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        delay: float = 0.0,
    ) -> Route:
        """Serve ``body`` at ``path`` (replacing what was there: that is how tests update a page)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        route = Route(data, status, content_type, dict(headers or {}), etag, last_modified, delay)
        self.routes[path] = route
        return route

    def serve_fixture(
        self, path: str, name: str, *, content_type: str | None = None, **kwargs: object
    ) -> Route:
        """Serve ``fixtures/<name>`` with ``{{BASE}}`` replaced by this server's base URL."""
        data = fixture_bytes(name).replace(b"{{BASE}}", self.base_url.encode("ascii"))
        if content_type is None:
            content_type = _TYPES.get(Path(name).suffix, "application/octet-stream")
        return self.serve(path, data, content_type=content_type, **kwargs)  # type: ignore[arg-type]

    def redirect(self, path: str, location: str, *, status: int = 302) -> Route:
        return self.serve(path, b"", status=status, content_type=None, headers={"Location": location})

    def handle(self, path: str, handler: Handler) -> Route:
        """Answer ``path`` with a custom aiohttp handler (streams, slow bodies, odd headers)."""
        route = Route(handler=handler)
        self.routes[path] = route
        return route

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    # -- serving --------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            RecordedRequest(
                request.method, request.path, request.query_string, dict(request.headers), time.time()
            )
        )
        route = self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="not found")
        if route.delay:
            await asyncio.sleep(route.delay)
        if route.handler is not None:
            return await route.handler(request)
        headers = dict(route.headers)
        if route.content_type:
            headers["Content-Type"] = route.content_type
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
        if route.status == 200 and _not_modified(request, route):
            return web.Response(status=304, headers={k: v for k, v in headers.items() if k != "Content-Type"})
        return web.Response(status=route.status, body=route.body, headers=headers)


def _not_modified(request: web.Request, route: Route) -> bool:
    match = request.headers.get("If-None-Match")
    if route.etag and match:
        return route.etag in [tag.strip() for tag in match.split(",")] or match.strip() == "*"
    since = request.headers.get("If-Modified-Since")
    if route.last_modified and since:
        try:
            return email.utils.parsedate_to_datetime(
                route.last_modified
            ) <= email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def etag_of(body: bytes | str) -> str:
    """A strong ETag for ``body``, for tests that update content and its validator together."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
