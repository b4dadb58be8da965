"""Why a fetch failed: ``FetchError`` subclasses, each with a one-line message a user can act on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from foreign_desk.index.errors import FetchError

__all__ = [
    "AddressRefused",
    "ConnectionFailed",
    "FetchError",
    "FetchFailure",
    "FetchTimeout",
    "HTTPStatusError",
    "InvalidURL",
    "NoArticle",
    "NotAFeed",
    "ResponseTooLarge",
    "RetryLater",
    "TooManyRedirects",
    "UnsupportedContentType",
]


class InvalidURL(FetchError):
    """Not an absolute http(s) URL (``ftp:``, ``file:``, no host)."""


class AddressRefused(FetchError):
    """The host resolves to a private, loopback, link-local or otherwise non-public address."""

    def __init__(self, message: str, *, host: str, address: str) -> None:
        super().__init__(message)
        self.host = host
        self.address = address


class ConnectionFailed(FetchError):
    """DNS failure, connection refused or reset, TLS failure."""


class FetchTimeout(FetchError):
    """The server did not answer (or finish answering) in time."""


class ResponseTooLarge(FetchError):
    """The body is longer than the configured ``max_bytes``; the download was cut."""


class TooManyRedirects(FetchError):
    """More redirects than allowed, or a redirect loop."""


class UnsupportedContentType(FetchError):
    """The server answered with something that is not what was asked for (a PDF for a page)."""

    def __init__(self, message: str, *, content_type: str) -> None:
        super().__init__(message)
        self.content_type = content_type


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(self, message: str, *, status: int, url: str) -> None:
        super().__init__(message)
        self.status = status
        self.url = url


class RetryLater(HTTPStatusError):
    """429 or 503: the server asks us to come back later.

    ``retry_after`` is the wait in seconds the server asked for (from ``Retry-After``, given
    as seconds or as an HTTP date), ``None`` when it did not say; ``retry_at`` is the same
    as an aware UTC datetime.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        url: str,
        retry_after: float | None,
        retry_at: datetime | None,
    ) -> None:
        super().__init__(message, status=status, url=url)
        self.retry_after = retry_after
        self.retry_at = retry_at


class NotAFeed(FetchError):
    """The bytes are not a feed feedparser can read any item from. ``kind`` says what they are
    ("html": a web page, "json": a JSON Feed, "broken": a feed whose items cannot be read,
    "unknown": anything else) and ``feed_link`` the feed a web page links to, so that a front end
    can say it in its reader's language."""

    def __init__(self, message: str, *, kind: str = "unknown", feed_link: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.feed_link = feed_link


class NoArticle(FetchError):
    """A page was fetched but no article body could be extracted from it."""


@dataclass(frozen=True, slots=True)
class FetchFailure:
    """A ``FetchError`` apart from its English message: its ``kind`` (the class name) and what it
    carries, kept beside the message in a fetch's report so that a front end can say why in its
    reader's language."""

    kind: str
    status: int | None = None
    content_type: str | None = None

    @classmethod
    def of(cls, exc: FetchError) -> FetchFailure:
        return cls(type(exc).__name__, getattr(exc, "status", None), getattr(exc, "content_type", None))
