"""Feeds: the bytes we fetched → typed ``FeedItem``s, and a conditional poll that fetches and parses.

feedparser reads RSS 0.9x/1.0/2.0 and Atom (6.0 has no JSON Feed reader: such a feed is a
``NotAFeed`` that says so) and is forgiving: a feed that is not
well-formed (a Latin-1 feed without an encoding declaration, an unescaped ``&``) is parsed
as far as it goes, and what went wrong is reported in ``ParsedFeed.problems``. A document
with no item at all that is also malformed is ``NotAFeed``.

feedparser only ever sees bytes (wrapped in a stream): given a ``str`` or ``bytes`` it would
treat it as a URL to fetch or a file name to open, which would bypass the fetch guard.
"""

from __future__ import annotations

import asyncio
import calendar
import codecs
import hashlib
import io
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import feedparser
import lxml.html
from foreign_desk.index.fetch.errors import NotAFeed
from foreign_desk.index.fetch.urls import canonical_url
from foreign_desk.index.readers.common import (
    MAX_NAME_CHARS,
    MAX_TITLE_CHARS,
    clip,
    normalise_language,
    reads_ascii,
    xml_declared_encoding,
)
from foreign_desk.index.text import strip_controls
from lxml import etree

if TYPE_CHECKING:
    from foreign_desk.index.fetch.http import Fetcher

log = logging.getLogger(__name__)

__all__ = ["FeedItem", "FeedPoll", "ParsedFeed", "html_to_text", "parse_feed", "poll_feed"]


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed, with text fields as plain text.

    ``canonical_link`` (see ``index.fetch.urls``) is the identity to dedupe on: feeds change
    GUIDs (a CMS migration, ``?utm_`` tags on the link) while the article stays the same.
    ``published`` is ISO UTC (``YYYY-MM-DDTHH:MM:SSZ``, or ``YYYY-MM-DD``), ``local_day`` the
    feed's own calendar day when that is not UTC's (``Article.local_day``). ``content`` is
    the text of ``content:encoded`` / Atom ``content`` when the feed carries the full
    article, and ``content_html`` its sanitised HTML.
    """

    guid: str | None
    link: str | None
    canonical_link: str | None
    title: str
    summary: str = ""
    published: str | None = None
    author: str | None = None
    content: str | None = None
    content_html: str | None = None
    local_day: str | None = None

    @property
    def key(self) -> str:
        """Identity across polls: the canonical link, else the GUID, else a hash of the title."""
        if self.canonical_link:
            return self.canonical_link
        if self.guid:
            return f"guid:{self.guid}"
        return "title:" + hashlib.sha1(self.title.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed: its own title and link, its items (duplicates removed), what went wrong."""

    title: str
    link: str | None
    language: str | None
    version: str
    encoding: str | None
    items: tuple[FeedItem, ...]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedPoll:
    """One conditional poll of a feed: ``feed`` is ``None`` when the server said 304.

    Keep ``etag`` and ``last_modified`` for the next poll.
    """

    url: str
    final_url: str
    feed: ParsedFeed | None
    etag: str | None
    last_modified: str | None
    not_modified: bool = field(default=False)


def parse_feed(
    data: bytes,
    *,
    url: str | None = None,
    headers: Mapping[str, str] | None = None,
    max_items: int | None = None,
) -> ParsedFeed:
    """Parse feed bytes; ``headers`` (the HTTP response's) let feedparser pick the encoding.

    ``url`` (where the feed was fetched from) resolves relative links; only the first
    ``max_items`` entries are read (the rest are one problem). Raises ``NotAFeed`` when
    nothing could be read as an item and the document is malformed.
    """
    problems: list[str] = []
    response_headers = _feed_headers(headers or {}, data, problems)
    if url:
        response_headers["content-location"] = url
    parsed = _parse(data, response_headers, problems)
    if parsed.get("bozo"):
        problems.append(_describe(parsed.get("bozo_exception")))
    entries = parsed.get("entries") or []
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        raise _not_a_feed(data, url, problems[-1] if parsed.get("bozo") else None)
    if max_items is not None and len(entries) > max_items:
        problems.append(f"{len(entries) - max_items} item(s) after the first {max_items} ignored")
        entries = entries[:max_items]
    items: list[FeedItem] = []
    seen: dict[str, int] = {}
    bad_dates: list[str] = []
    for number, entry in enumerate(entries, start=1):
        item = _item(entry, problems, number)
        if item is None:
            continue
        raw_date = dict.get(entry, "published") or dict.get(entry, "updated")
        if item.published is None and raw_date:
            bad_dates.append(str(raw_date))
        if item.key in seen:
            problems.append(f"item {number} repeats item {seen[item.key]} ({item.key}); kept the first")
            continue
        seen[item.key] = number
        items.append(item)
    if bad_dates:
        problems.append(f"{len(bad_dates)} item(s) with an unreadable or future date, e.g. {bad_dates[0]!r}")
    meta = parsed.get("feed", {})
    return ParsedFeed(
        title=clip(html_to_text(meta.get("title", "")), MAX_TITLE_CHARS) or "",
        link=strip_controls(meta.get("link") or "") or None,
        language=normalise_language(meta.get("language")),  # its author's text: a code, or nothing
        version=parsed.get("version") or "unknown",
        encoding=parsed.get("encoding"),
        items=tuple(items),
        problems=tuple(problems),
    )


def _not_a_feed(data: bytes, url: str | None, problem: str | None) -> NotAFeed:
    """Why a document with no item is no feed: an HTML page, a JSON Feed, or what went wrong."""
    where = f" at {url}" if url else ""
    if _HTML_START.match(data[:4096]):
        page, link = _html_page(data, url)
        return NotAFeed(f"not a feed{where}: {page}", kind="html", feed_link=link)
    if data.lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"{":
        return NotAFeed(
            f"not a feed{where}: a JSON Feed, which cannot be read (use the site's RSS or Atom feed)",
            kind="json",
        )
    if problem is not None:
        return NotAFeed(f"no feed items could be read{where}: {problem}", kind="broken")
    return NotAFeed(f"not a feed{where}: no RSS or Atom document")


async def poll_feed(
    fetcher: Fetcher,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_items: int | None = None,
) -> FeedPoll:
    """Fetch ``url`` conditionally and parse it (off the loop, its first ``max_items`` items);
    a 304 costs no parsing."""
    result = await fetcher.fetch_feed(url, etag=etag, last_modified=last_modified)
    feed = None
    if not result.not_modified:
        feed = await asyncio.to_thread(
            parse_feed, result.body, url=result.final_url, headers=result.headers, max_items=max_items
        )
    return FeedPoll(
        url=url,
        final_url=result.final_url,
        feed=feed,
        etag=result.etag,
        last_modified=result.last_modified,
        not_modified=result.not_modified,
    )


def _parse(data: bytes, headers: dict[str, str], problems: list[str]) -> Any:
    """feedparser's reading of ``data``; an encoding declared that fails on any text
    (``punycode``, ``undefined``) escapes feedparser as a ``UnicodeError``: then the bytes are
    read as UTF-8 when they are, else as windows-1252 or Latin-1, and that is one problem."""
    try:
        return feedparser.parse(io.BytesIO(data), response_headers=headers)
    except (UnicodeError, LookupError) as exc:
        fallback = _fallback(data)
        problems.append(f"wrong encoding declaration ({exc}); read as {fallback}")
        mime = headers["content-type"].partition(";")[0]
        return feedparser.parse(
            io.BytesIO(data), response_headers={**headers, "content-type": f"{mime}; charset={fallback}"}
        )


def _fallback(data: bytes) -> str:
    """The encoding to read ``data`` in when its own label is wrong: UTF-8 when the bytes are
    valid UTF-8, else windows-1252 when they are in it, else Latin-1 (which any bytes are)."""
    return next(e for e in ("utf-8", "cp1252", "latin-1") if _decodes(data, e))


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def html_to_text(fragment: str | None) -> str:
    """Plain text of an HTML fragment (a summary, a title with ``&amp;``), paragraphs on lines."""
    if not fragment:
        return ""
    fragment = strip_controls(fragment)  # a terminal or Discord would obey them
    if "<" not in fragment and "&" not in fragment:
        return " ".join(fragment.split())
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.iter("p", "div", "li", "h1", "h2", "h3", "h4", "blockquote", "tr"):
        block.tail = "\n" + (block.tail or "")
    for junk in root.xpath(".//script|.//style"):
        junk.drop_tree()
    text = strip_controls(root.text_content())  # as written, or a character reference (&#27;)
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


_SINGLE_BYTE = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "windows-1252", "cp1252", "us-ascii", "ascii"}


def _feed_headers(headers: Mapping[str, str], data: bytes, problems: list[str]) -> dict[str, str]:
    """Headers for feedparser, with the content type it needs to pick the right encoding.

    Servers label feeds ``text/xml`` (which RFC 3023 made US-ASCII by default), ``text/html``
    or nothing at all; all of these become ``application/xml`` so that the XML declaration
    decides (RFC 7303). A charset parameter is kept, except one the bytes cannot be in
    (``_not_these_bytes``) or a Latin-1 one on bytes that are valid UTF-8 (a server default
    stamped on a UTF-8 feed); without one, a declaration the bytes cannot be in is passed over
    (``_declared_otherwise``). JSON types stay as they are.
    """
    out = {k.lower(): v for k, v in headers.items()}
    mime, _, params = out.get("content-type", "").partition(";")
    mime = mime.strip().lower()
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    if charset and _not_these_bytes(charset, data):
        charset = None
    if charset and charset.lower() in _SINGLE_BYTE and not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            charset = None
    if "json" not in mime:
        mime = "application/xml"
        charset = charset or _declared_otherwise(data, problems)
    out["content-type"] = f"{mime}; charset={charset}" if charset else mime
    return out


def _not_these_bytes(charset: str, data: bytes) -> bool:
    """Whether a document that opens with an ASCII ``<`` cannot be in ``charset``: one that reads
    ASCII otherwise (``reads_ascii``: UTF-16 or UTF-32 without a BOM, EBCDIC, UTF-7, a codec no
    text has). Read that way, an even-length feed was no feed and an odd-length one was."""
    return data.lstrip()[:1] == b"<" and not reads_ascii(charset)


def _declared_otherwise(data: bytes, problems: list[str]) -> str | None:
    """The charset to read ``data`` in when its XML declaration, read as ASCII, names an encoding
    that reads ASCII otherwise (``encoding="cp037"``, ``"utf-16"`` on ASCII bytes): feedparser
    decoded the feed by it into no feed ("not well-formed"). The bytes are then read as UTF-8
    when they are, else windows-1252 or Latin-1, and that is one problem. None: it may stand."""
    declared = xml_declared_encoding(data.removeprefix(codecs.BOM_UTF8))
    if declared is None or reads_ascii(declared):
        return None
    fallback = _fallback(data)
    problems.append(f"wrong encoding declaration ({declared}, which the feed is not in); read as {fallback}")
    return fallback


def _item(entry: dict[str, Any], problems: list[str], number: int) -> FeedItem | None:
    link = strip_controls(entry.get("link") or "").strip() or None
    guid = strip_controls(entry.get("id") or "").strip() or None
    title = clip(html_to_text(entry.get("title")), MAX_TITLE_CHARS) or ""
    if link is None and guid and guid.startswith(("http://", "https://")):
        link = guid
    if link is None and not title:
        problems.append(f"item {number} has neither link nor title; skipped")
        return None
    content_html = None
    for content in entry.get("content") or []:
        if content.get("value"):
            content_html = content["value"]
            break
    summary = html_to_text(entry.get("summary"))
    content = html_to_text(content_html) if content_html else None
    published, local_day = _published(entry)
    return FeedItem(
        guid=guid,
        link=link,
        canonical_link=canonical_url(link) if link else None,
        title=title,
        summary=summary,
        published=published,
        author=clip(html_to_text(entry.get("author")), MAX_NAME_CHARS) or None,
        content=content,
        content_html=content_html,
        local_day=local_day,
    )


def _published(entry: dict[str, Any]) -> tuple[str | None, str | None]:
    """The item's date and local day under the rules of ``index.dates``: one it cannot hold
    (year 0, year 10000 in UTC, next year) is no date, and the item goes on without it.
    feedparser's parsed dates are in UTC: the local day is read from the date as written."""
    from foreign_desk.index.dates import parse_published, parse_published_day  # lazy: a sibling module

    # dict.get: FeedParserDict.get would map updated_parsed to published_parsed with a warning.
    raw = dict.get(entry, "published") or dict.get(entry, "updated") or dict.get(entry, "created")
    written = parse_published_day(raw) if raw else (None, None)
    if raw and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", raw):
        return written  # a day without a time stays a day, not midnight UTC
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(entry, key)
        if isinstance(value, time.struct_time):
            try:
                instant = parse_published(datetime.fromtimestamp(calendar.timegm(value), UTC))
            except (OverflowError, ValueError, OSError):  # a year datetime cannot hold
                return None, None
            return instant, written[1] if instant == written[0] else None
    return written


_HTML_START = re.compile(rb"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]", re.IGNORECASE | re.DOTALL)
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")


def _html_page(data: bytes, url: str | None) -> tuple[str, str | None]:
    """An HTML page that is no feed, and the feed it links to when it names one (also apart)."""
    try:
        root = lxml.html.document_fromstring(data[:1_000_000])
    except (etree.ParserError, ValueError):
        return "an HTML page", None
    for link in root.iter("link"):
        if (link.get("type") or "").strip().lower() in _FEED_TYPES and link.get("href"):
            found = urljoin(url or "", link.get("href", "").strip())
            return f"an HTML page; the feed it links to is {found}", found
    return "an HTML page (look for the site's RSS or Atom link)", None


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "malformed feed"
    name = type(exc).__name__
    text = " ".join(str(exc).split()) or name
    if isinstance(exc, feedparser.CharacterEncodingOverride):
        return f"wrong or missing encoding declaration: {text}"
    return f"malformed feed ({name}): {text}"
