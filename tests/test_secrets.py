"""``hide_secrets``: a URL's credentials written ``***`` wherever a log or an error names it."""

from __future__ import annotations

import logging
import sys

import pytest
from foreign_desk.index.errors import FetchError
from foreign_desk.index.secrets import HidingFormatter, hide_secrets


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("fetching https://bob:pw@example.com/rss", "fetching https://***@example.com/rss"),
        ("https://bob@example.com/rss", "https://***@example.com/rss"),
        ("https://x.org/rss?token=abc&lang=en", "https://x.org/rss?token=***&lang=en"),
        ("https://x.org/rss?lang=en&api_key=abc#top", "https://x.org/rss?lang=en&api_key=***#top"),
        ("https://x.org/f?Access_Token=a;sig=b", "https://x.org/f?Access_Token=***;sig=***"),
        ("https://x.org/rss?keyword=nato&monkey=1", "https://x.org/rss?keyword=nato&monkey=1"),
        ("https://x.org/a@b and me@example.com", "https://x.org/a@b and me@example.com"),
    ],
)
def test_credentials_in_urls_are_hidden_and_nothing_else(text: str, shown: str) -> None:
    assert hide_secrets(text) == shown


def test_a_logged_traceback_hides_them_too() -> None:
    """A bug met on a feed is logged with its traceback, whose lines hold the URL as raised."""
    try:
        raise ValueError("cannot parse https://bob:pw@example.com/rss?key=k1")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "polling %s failed", ("a",), sys.exc_info()
        )
    text = HidingFormatter("%(message)s").format(record)
    assert "ValueError: cannot parse https://***@example.com/rss?key=***" in text and "pw" not in text
    assert str(FetchError("HTTP 500 fetching https://bob:pw@example.com/")).endswith(
        "https://***@example.com/"
    )
