"""Why a page or feed could not be fetched, in the reader's language: the engine's typed
``FetchError``s that a server's admins meet (a PDF for a page, a 404, a site that does not
answer, a private address refused), raised, kept in a fetch's report (``FetchFailure``) or stored
with a feed's last failure (``Feed.last_failure``). The engine's message is English, and names
more (the URL, the socket's error, the byte limit): English readers get it as it is (less advice
on the host's settings: ``failures``), and the log keeps it for everyone. A refused address's
words name no setting: a server's admins cannot change the host's."""

from __future__ import annotations

from foreign_desk.index.fetch import FetchError, FetchFailure

from .i18n import DEFAULT, Texts

KEYS = {
    "UnsupportedContentType": "fetch.error.content_type",
    "RetryLater": "fetch.error.retry_later",
    "HTTPStatusError": "fetch.error.http_status",
    "FetchTimeout": "fetch.error.timeout",
    "ConnectionFailed": "fetch.error.connection",
    "NoArticle": "fetch.error.no_article",
    "AddressRefused": "fetch.error.address_refused",
    "NotAFeed": "fetch.error.not_a_feed",
    "ResponseTooLarge": "fetch.error.too_large",
    "TooManyRedirects": "fetch.error.redirects",
    "InvalidURL": "fetch.error.invalid_url",
}
"""``FetchFailure.kind`` (a ``FetchError`` class's name) → its text, for every subclass; a plain
``FetchError`` (whatever else failed, in words of its own) keeps the engine's words."""
NEEDS = {"UnsupportedContentType": "content_type", "RetryLater": "status", "HTTPStatusError": "status"}
"""The value a kind's text names: one a stored failure lacks (a damaged row) keeps the engine's words."""


def fetch_words(error: BaseException | FetchFailure | None, tx: Texts) -> str | None:
    """``error`` said in ``tx``'s language, or None: an English reader, or another error."""
    if tx.language == DEFAULT:
        return None
    failure = FetchFailure.of(error) if isinstance(error, FetchError) else error
    if not isinstance(failure, FetchFailure) or failure.kind not in KEYS:
        return None
    if failure.kind in NEEDS and getattr(failure, NEEDS[failure.kind]) is None:
        return None
    return tx(KEYS[failure.kind], content_type=failure.content_type, status=failure.status)
