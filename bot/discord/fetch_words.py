"""Why a page or feed could not be fetched, in the reader's language: the engine's typed
``FetchError``s that a server's admins meet (a PDF for a page, a 404, a site that does not
answer). The engine's message is English, and names more (the URL, the socket's error): English
readers get it as it is, and the log keeps it for everyone."""

from __future__ import annotations

from foreign_desk.index.fetch import (
    ConnectionFailed,
    FetchTimeout,
    HTTPStatusError,
    NoArticle,
    RetryLater,
    UnsupportedContentType,
)

from .i18n import DEFAULT, Texts

KEYS: tuple[tuple[type[Exception], str], ...] = (
    (UnsupportedContentType, "fetch.error.content_type"),
    (RetryLater, "fetch.error.retry_later"),
    (HTTPStatusError, "fetch.error.http_status"),
    (FetchTimeout, "fetch.error.timeout"),
    (ConnectionFailed, "fetch.error.connection"),
    (NoArticle, "fetch.error.no_article"),
)
"""Most specific first: ``RetryLater`` is an ``HTTPStatusError``."""


def fetch_words(error: BaseException, tx: Texts) -> str | None:
    """``error`` said in ``tx``'s language, or None: an English reader, or another error."""
    if tx.language == DEFAULT:
        return None
    key = next((key for kind, key in KEYS if isinstance(error, kind)), None)
    if key is None:
        return None
    return tx(key, content_type=getattr(error, "content_type", ""), status=getattr(error, "status", ""))
