"""Polite, bounded HTTP GET for feeds and article pages.

Every fetch has a deadline, a byte cap, a redirect cap, an http(s)-only rule and the SSRF
guard on every hop (redirects are followed here, not by aiohttp, so each hop is checked).
Conditional requests turn an unchanged feed into a 304 that costs one round trip, and a
429/503 becomes ``RetryLater`` carrying the server's ``Retry-After``.

Concurrency: one ``Fetcher`` per event loop; ``fetch`` may be awaited from many tasks at once.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

import aiohttp
from foreign_desk.index.article import MAX_URL_CHARS
from foreign_desk.index.fetch.errors import (
    ConnectionFailed,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    InvalidURL,
    ResponseTooLarge,
    RetryLater,
    TooManyRedirects,
    UnsupportedContentType,
)
from foreign_desk.index.fetch.ssrf import AddressPolicy, GuardedResolver
from yarl import URL

if TYPE_CHECKING:
    from foreign_desk.index.config import Settings

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_USER_AGENT", "MAX_RETRY_AFTER_S", "FetchResult", "Fetcher", "Kind", "parse_retry_after"]

DEFAULT_USER_AGENT = "ForeignDeskBot/0.1 (+https://github.com/foreign-desk)"
Kind = Literal["page", "feed", "any"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_ACCEPT = {
    "page": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    "feed": "application/rss+xml,application/atom+xml,application/rdf+xml;q=0.9,"
    "application/xml;q=0.9,text/xml;q=0.9,application/feed+json;q=0.8,*/*;q=0.1",
    "any": "*/*",
}
_PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one fetch brought back.

    ``not_modified`` is true for a 304 answer to a conditional request: ``body`` is empty
    and ``etag`` / ``last_modified`` are the validators to keep (the server's new ones when
    it sent any, else the ones we sent). ``headers`` has lower-case names.
    """

    url: str
    final_url: str
    status: int
    body: bytes
    headers: Mapping[str, str]
    content_type: str | None
    charset: str | None
    etag: str | None
    last_modified: str | None
    redirects: tuple[str, ...] = ()
    elapsed_s: float = 0.0
    not_modified: bool = field(default=False)


class Fetcher:
    """An aiohttp session with the guard rails; use as ``async with Fetcher(...) as fetcher``."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout_s: float = 20.0,
        connect_timeout_s: float | None = None,
        max_bytes: int = 5_000_000,
        max_feed_bytes: int = 2_000_000,
        max_redirects: int = 5,
        user_agent: str = DEFAULT_USER_AGENT,
        policy: AddressPolicy | None = None,
        limit_per_host: int = 4,
    ) -> None:
        self.policy = policy or AddressPolicy(allow_private=allow_private)
        self.timeout_s = timeout_s
        self.connect_timeout_s = min(connect_timeout_s or 10.0, timeout_s)
        self.max_bytes = max_bytes
        self.max_feed_bytes = max_feed_bytes
        """A feed document's ceiling, below ``max_bytes``: parsing one costs ~2.5 s a MB."""
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        self._limit_per_host = limit_per_host
        self._resolver: GuardedResolver | None = None
        self._session: aiohttp.ClientSession | None = None
        self.requests_sent = 0
        """Requests handed to the connection pool (each hop of a redirect counts): an address the
        guard refused never gets that far."""

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> Fetcher:
        """A fetcher configured by ``settings.feeds`` and ``settings.allow_private_urls``."""
        feeds = settings.feeds
        kwargs: dict[str, object] = {
            "allow_private": settings.allow_private_urls,
            "timeout_s": feeds.timeout_s,
            "max_bytes": feeds.max_bytes,
            "max_feed_bytes": feeds.max_feed_bytes,
            "max_redirects": feeds.max_redirects,
            "user_agent": feeds.user_agent,
        }
        kwargs.update(overrides)
        return cls(**kwargs)  # type: ignore[arg-type]

    async def __aenter__(self) -> Fetcher:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def open(self) -> None:
        if self._session is not None:
            return
        self._resolver = GuardedResolver(self.policy)
        connector = aiohttp.TCPConnector(
            resolver=self._resolver, use_dns_cache=False, limit_per_host=self._limit_per_host
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,  # an environment proxy would resolve hosts behind the guard's back
            headers={"User-Agent": self.user_agent},
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.connect_timeout_s),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(
        self,
        url: str,
        *,
        kind: Kind = "any",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """GET ``url``; ``kind`` picks the Accept header and which content types are refused.

        ``etag`` / ``last_modified`` (from the previous ``FetchResult``) make the request
        conditional. Raises a ``FetchError`` subclass on every failure.
        """
        if self._session is None:
            await self.open()
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._fetch(url, kind, etag, last_modified, started)
        except TimeoutError:
            raise FetchTimeout(f"timed out after {self.timeout_s:g} s fetching {url}") from None

    async def fetch_page(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET an article page: anything but HTML (a PDF, an image) is ``UnsupportedContentType``."""
        return await self.fetch(url, kind="page", etag=etag, last_modified=last_modified)

    async def fetch_feed(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET a feed (XML, JSON or text types; images, PDFs and the like are refused)."""
        return await self.fetch(url, kind="feed", etag=etag, last_modified=last_modified)

    async def _fetch(
        self, url: str, kind: Kind, etag: str | None, last_modified: str | None, started: float
    ) -> FetchResult:
        assert self._session is not None and self._resolver is not None
        current = _check_url(url)
        headers = {"Accept": _ACCEPT[kind]}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        visited: list[str] = []
        while True:
            assert current.host is not None and current.port is not None
            await self._resolver.check(current.raw_host or current.host, current.port)
            self.requests_sent += 1
            try:
                async with self._session.get(current, headers=headers, allow_redirects=False) as resp:
                    if resp.status in _REDIRECTS and "Location" in resp.headers:
                        visited.append(str(current))
                        current = self._next_hop(current, resp.headers["Location"], visited)
                        continue
                    return await self._finish(url, current, resp, kind, visited, etag, last_modified, started)
            except aiohttp.InvalidURL as exc:
                raise InvalidURL(f"invalid URL {current}: {exc}") from None
            except aiohttp.ServerTimeoutError:
                raise FetchTimeout(f"timed out connecting to {current.host}") from None
            except (aiohttp.ClientConnectorError, aiohttp.ClientOSError) as exc:
                raise ConnectionFailed(f"cannot connect to {current.host}: {exc.strerror or exc}") from None
            except aiohttp.ClientPayloadError as exc:
                raise ConnectionFailed(f"broken response from {current.host}: {exc}") from None
            except aiohttp.ClientError as exc:
                raise FetchError(f"fetching {current} failed: {exc}") from None

    def _next_hop(self, current: URL, location: str, visited: list[str]) -> URL:
        try:
            target = current.join(URL(location.strip()))
        except ValueError:
            raise InvalidURL(f"bad redirect from {current} to {location!r}") from None
        if str(target.with_fragment(None)) in visited:
            raise TooManyRedirects(f"redirect loop: {target} redirects back to itself")
        if len(visited) > self.max_redirects:
            raise TooManyRedirects(f"more than {self.max_redirects} redirects fetching {visited[0]}")
        return _check_url(str(target))

    async def _finish(
        self,
        url: str,
        final: URL,
        resp: aiohttp.ClientResponse,
        kind: Kind,
        visited: list[str],
        etag: str | None,
        last_modified: str | None,
        started: float,
    ) -> FetchResult:
        headers = _headers(resp)
        common = {
            "url": url,
            "final_url": str(final),
            "status": resp.status,
            "headers": headers,
            "redirects": tuple(visited),
        }
        if resp.status == 304 and (etag or last_modified):  # unasked for, a 304 is an error
            return FetchResult(
                body=b"",
                content_type=None,
                charset=None,
                etag=headers.get("etag") or etag,
                last_modified=headers.get("last-modified") or last_modified,
                elapsed_s=time.monotonic() - started,
                not_modified=True,
                **common,  # type: ignore[arg-type]
            )
        if resp.status in (429, 503):
            seconds, at = parse_retry_after(headers.get("retry-after"))
            wait = f"; retry after {seconds:.0f} s" if seconds is not None else ""
            raise RetryLater(
                f"HTTP {resp.status} {resp.reason or ''} from {final.host}{wait}".replace("  ", " "),
                status=resp.status,
                url=str(final),
                retry_after=seconds,
                retry_at=at,
            )
        if resp.status >= 300:
            raise HTTPStatusError(
                f"HTTP {resp.status} {resp.reason or ''} fetching {final}".replace("  ", " "),
                status=resp.status,
                url=str(final),
            )
        raw_type = headers.get("content-type")
        content_type = raw_type.split(";")[0].strip().lower() if raw_type else None
        _check_content_type(kind, content_type, final)
        body = await self._read_capped(resp, final, *self._cap(kind))
        return FetchResult(
            body=body,
            content_type=content_type,
            charset=resp.charset if raw_type else None,
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            elapsed_s=time.monotonic() - started,
            **common,  # type: ignore[arg-type]
        )

    def _cap(self, kind: Kind) -> tuple[int, str]:
        """The byte ceiling for a fetch of ``kind``, and the setting that sets it."""
        if kind == "feed" and self.max_feed_bytes < self.max_bytes:
            return self.max_feed_bytes, "max_feed_bytes"
        return self.max_bytes, "max_bytes"

    async def _read_capped(self, resp: aiohttp.ClientResponse, final: URL, limit: int, name: str) -> bytes:
        declared = resp.content_length
        if declared is not None and declared > limit:
            raise ResponseTooLarge(f"{final} is {declared:,} bytes, over the {limit:,} byte limit ({name})")
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > limit:
                resp.close()
                raise ResponseTooLarge(f"{final} is over the {limit:,} byte limit ({name})")
            chunks.append(chunk)
        return b"".join(chunks)


MAX_RETRY_AFTER_S = 86_400.0
"""The longest wait a server's ``Retry-After`` can impose: a day. A feed that asks for 2099
(or for 10**20 seconds) is polled again tomorrow, not silenced for decades."""


def parse_retry_after(
    value: str | None, *, now: datetime | None = None
) -> tuple[float | None, datetime | None]:
    """``Retry-After`` as (seconds from now, UTC datetime), at most ``MAX_RETRY_AFTER_S``
    ahead; ``(None, None)`` when absent or unreadable."""
    if not value:
        return None, None
    now = now or datetime.now(UTC)
    text = value.strip()[:64]
    if text.isascii() and text.isdigit():
        seconds = min(float(text), MAX_RETRY_AFTER_S)
    else:
        try:
            at = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None, None
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        seconds = min(max(0.0, (at - now).total_seconds()), MAX_RETRY_AFTER_S)
    return seconds, now + timedelta(seconds=seconds)


def _check_url(url: str) -> URL:
    if len(url) > MAX_URL_CHARS:  # a hostile feed's link or redirect: not a page anyone cites
        raise InvalidURL(f"the address is {len(url):,} characters long; at most {MAX_URL_CHARS:,}")
    try:
        parsed = URL(url.strip())
    except (ValueError, TypeError):
        raise InvalidURL(f"not a URL: {url!r}") from None
    if parsed.scheme not in ("http", "https"):
        raise InvalidURL(f"only http and https URLs can be fetched, not {url!r}")
    if not parsed.host:
        raise InvalidURL(f"URL has no host: {url!r}")
    return parsed.with_fragment(None)


def _check_content_type(kind: Kind, content_type: str | None, final: URL) -> None:
    if kind == "any" or content_type is None:
        return
    if kind == "page":
        ok = content_type in _PAGE_TYPES
        wanted = "an HTML page"
    else:
        major, _, minor = content_type.partition("/")
        ok = (
            major == "text"
            or minor in ("xml", "json", "octet-stream", "x-rss+xml", "feed+json")
            or minor.endswith(("+xml", "+json"))
        )
        wanted = "a feed"
    if not ok:
        raise UnsupportedContentType(f"{final} is {content_type}, not {wanted}", content_type=content_type)


def _headers(resp: aiohttp.ClientResponse) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in resp.headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out
