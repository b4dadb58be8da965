"""HTML reader: one news page → one ``Article`` with its paragraphs and headings.

trafilatura finds the article body (dropping navigation, "Baca Juga" link boxes, share
buttons, related-article lists and footers) and the title, author and site name. This
module adds what trafilatura leaves to the caller: decoding bytes the way a browser would
(BOM, then the HTTP charset, then ``<meta charset>``, with a check that catches pages
mislabelled as Latin-1), publication dates with time and zone when the page has them,
the language, and a canonical URL.

The extraction settings (``EXTRACTION``) are the ones ``bench/extraction.py`` measured best.
Pure functions, safe to call from several threads; call them off the event loop.
"""

from __future__ import annotations

import codecs
import gzip
import io
import itertools
import json
import logging
import re
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import trafilatura
from foreign_desk.index.article import MAX_URL_CHARS, Article, Block, ReadProblem
from foreign_desk.index.errors import ReaderError
from foreign_desk.index.readers.common import (
    MAX_NAME_CHARS,
    MAX_TITLE_CHARS,
    clip,
    load_bytes,
    reads_ascii,
    xml_declared_encoding,
)
from lxml import etree
from lxml.html import HtmlElement

log = logging.getLogger(__name__)

__all__ = [
    "EXTRACTION",
    "SUFFIXES",
    "article_from_html",
    "blocks_from_body",
    "decode_html",
    "extract_document",
    "read",
]


class _NoDiscardWarning(logging.Filter):
    """Drops trafilatura's "discarding data: None", logged for every page it finds no body in:
    that page is reported here, once and with its path or URL ("no article body found")."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("discarding data")


logging.getLogger("trafilatura.core").addFilter(_NoDiscardWarning())

SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
MAX_FILE_BYTES = 20_000_000
MAX_ELEMENTS = 10_000
"""A page with more HTML elements is refused before extraction: trafilatura's time grows with
their square (50,000 ``<span>`` in one paragraph, a 750 KB page, took 445 s of CPU, 16,000 took
12.6 s, 8,000 3.1 s), while the largest of 184 real news pages has 1,709: a hostile page costs
~5 s at most, and a real one has room to be six times the largest seen."""

EXTRACTION: dict[str, Any] = {
    "include_comments": False,
    "include_tables": True,
    "favor_precision": True,
    "favor_recall": False,
    "fast": False,
}
"""trafilatura options for ``article_from_html``, the best by F1 in ``bench/extraction.py``
(181 real pages: bag-of-words F1 0.964 vs 0.959 for trafilatura's defaults, precision
0.967 vs 0.952 for 0.7 points of recall): less boilerplate reaches the index."""

# --------------------------------------------------------------------------------------------
# Public API


def read(path: Path) -> Iterator[Article | ReadProblem]:
    """Articles from an HTML file (``.html``, ``.htm``, optionally gzipped) or a folder of them.

    A file that is unreadable, binary, empty or has no article body yields a ``ReadProblem``
    instead; reading goes on with the next file.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES))
    else:
        files = [path]
    for file in files:
        yield _read_file(file)


def article_from_html(
    html: bytes | str,
    *,
    url: str | None = None,
    path: str | None = None,
    fallback_date: str | None = None,
    fallback_day: str | None = None,
    fallback_source: str | None = None,
    charset: str | None = None,
    options: dict[str, Any] | None = None,
) -> Article:
    """Extract the article of one page; raises ``ReaderError`` when there is no body to extract.

    ``url`` is where the page was fetched from (the page's own canonical link wins when it
    is on the same site); ``charset`` is the HTTP header's, used when ``html`` is bytes;
    ``fallback_date`` (a feed's date, any format ``index.dates`` reads) is used when the page
    does not say when it was published (with ``fallback_day``, the feed's ``local_day``),
    ``fallback_source`` (a feed's title) when it does not
    say which outlet it is. ``options`` overrides ``EXTRACTION``.
    """
    if isinstance(html, bytes):
        reason = _not_html(html)
        if reason:
            raise ReaderError(reason)
        text = decode_html(html, charset)
    else:
        text = html
    if not text.strip():
        raise ReaderError("empty page")
    tree = _tree(_without_control_references(text))
    # Read what the page declares before trafilatura prunes the tree.
    meta = _page_metadata(tree)
    document = extract_document(tree, url=url, options=options)
    if document is None:
        raise ReaderError("no article body found")
    blocks = blocks_from_body(document.body)
    title = _clean(document.title or meta.get("title") or "")
    if blocks and blocks[0].kind == "heading" and _same_text(blocks[0].text, title):
        blocks = blocks[1:]
    if not any(b.kind != "heading" for b in blocks):
        raise ReaderError("no article body found")
    body_text = "\n".join(b.text for b in blocks)
    article_url, link = _article_url(url, meta.get("canonical") or document.url)
    fallback = (fallback_date, fallback_day)
    published, local_day = _published(meta.get("published"), fallback, text, article_url)
    return Article(
        title=clip(title or _title_from_location(article_url or path or ""), MAX_TITLE_CHARS) or "",
        blocks=tuple(blocks),
        source=clip(_source(document.sitename, fallback_source, article_url), MAX_NAME_CHARS),
        url=article_url,
        published=published,
        language=_language(body_text, meta.get("language")),
        author=clip(_clean(document.author or "") or None, MAX_NAME_CHARS),
        path=path,
        local_day=local_day,
        link=link if link != article_url else None,
    )


_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));?")


def _without_control_references(text: str) -> str:
    """``text`` without character references to C0 controls but NUL (U+FFFD), tab, newline, return
    (``&#27;``, ``&#x8;``) or DEL: the parser turns them into characters that XML has no room
    for, and the page's body was lost with them ("no article body found"). A control written
    as it is the parser leaves out; the C1 ones it reads as Windows-1252, as HTML says."""
    if "&#" not in text:
        return text

    def drop(m: re.Match[str]) -> str:
        code = int(m[1], 16) if m[1] else int(m[2])
        return "" if (0 < code < 0x20 and code not in (0x09, 0x0A, 0x0D)) or code == 0x7F else m[0]

    return _REFERENCE.sub(drop, text)


def _tree(text: str) -> HtmlElement:
    """The page's parsed tree, or ``ReaderError`` when it is none or has over ``MAX_ELEMENTS``."""
    tree = trafilatura.utils.load_html(text)
    if tree is None:
        raise ReaderError("not an HTML page")
    if next(itertools.islice(tree.iter(), MAX_ELEMENTS, None), None) is not None:
        raise ReaderError(f"the page has over {MAX_ELEMENTS:,} HTML elements, too many for one article")
    return tree


def extract_document(
    html: HtmlElement | str | bytes, *, url: str | None = None, options: dict[str, Any] | None = None
) -> Any:
    """trafilatura's ``Document`` for a page (``None`` when it finds no body)."""
    settings = {**EXTRACTION, **(options or {})}
    return trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        # Dates are read by ``_published``; keep trafilatura's own date search cheap.
        date_extraction_params={"extensive_search": False, "original_date": True},
        **settings,
    )


def blocks_from_body(body: etree._Element | None) -> list[Block]:
    """trafilatura's XML body → blocks: ``<head>`` → heading, ``<p>``, list items, quotes and
    table rows → paragraphs; a ``<lb/>`` (a ``<br>`` in the page) splits paragraphs."""
    blocks: list[Block] = []
    if body is None:
        return blocks
    for element in body:
        _collect(element, blocks)
    return blocks


def decode_html(data: bytes, charset: str | None = None) -> str:
    """Bytes → text: BOM, then valid UTF-8, then the HTTP ``charset``, then ``<meta charset>``.

    Bytes that are valid UTF-8 with non-ASCII characters are UTF-8 whatever the label: text
    in a legacy encoding is practically never valid UTF-8, while servers that stamp
    ``ISO-8859-1`` on every page are common. Latin-1 labels mean windows-1252, as in
    browsers; undecodable bytes end in windows-1252, then Latin-1, never an error.
    """
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    if not data.isascii():
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    for label in (charset, _declared_charset(data)):
        declared = _encoding(label)
        if declared:
            try:
                return data.decode(declared)
            except (UnicodeError, LookupError):  # bytes it cannot hold; a codec of bytes ("base64")
                continue
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # maps every byte; the last resort


# --------------------------------------------------------------------------------------------
# Files


def _read_file(file: Path) -> Article | ReadProblem:
    from foreign_desk.index.readers.common import problem  # lazy: logs each problem as the other readers do

    where = str(file)
    try:
        return article_from_html(_load(file), path=where)
    except ReaderError as exc:
        return problem(where, str(exc))
    except (ValueError, etree.LxmlError) as exc:  # trafilatura/lxml on pathological input
        log.debug("extraction failed for %s", where, exc_info=True)
        return problem(where, f"cannot parse HTML: {exc}")


def _load(file: Path) -> bytes:
    """The page's bytes, unzipped for ``.gz``, at most ``MAX_FILE_BYTES`` either way: a few
    hundred KB of gzip can unzip to gigabytes, so unzipping stops just past the limit."""
    data = load_bytes(file, MAX_FILE_BYTES)
    if not file.name.lower().endswith(".gz"):
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise ReaderError(f"cannot read file: damaged gzip data ({exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ReaderError(f"unzips to over {MAX_FILE_BYTES:,} bytes, too large for one page")
    return data


_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (or an office document)"),
    (b"\x1f\x8b", "gzip data"),
    (b"RIFF", "a RIFF file (image or audio)"),
)


def _not_html(data: bytes) -> str | None:
    """Why ``data`` cannot be an HTML page (empty, binary), or ``None``."""
    if not data.strip():
        return "empty file"
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return f"not HTML: looks like {what}"
    head = data[:4096]
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "not HTML: binary data"
    return None


# --------------------------------------------------------------------------------------------
# Decoding

_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:+-]+)""", re.IGNORECASE)
_WINDOWS_1252 = {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii"}
_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "iso-8859-9": "cp1254",
    "x-sjis": "shift_jis",
}


def _declared_charset(data: bytes) -> str | None:
    m = _META_CHARSET.search(data[:4096])
    return xml_declared_encoding(data) or (m.group(1).decode("ascii") if m else None)


def _encoding(label: str | None) -> str | None:
    if not label:
        return None
    key = label.strip().strip("\"'").lower()
    if key in _WINDOWS_1252:
        return "cp1252"
    key = _ALIASES.get(key, key)
    try:
        name = codecs.lookup(key).name
    except LookupError:
        return None
    return name if reads_ascii(name) else None


# --------------------------------------------------------------------------------------------
# Blocks

_BLOCK_TAGS = frozenset({"p", "head", "list", "quote", "table", "code", "div", "item", "row"})


def _collect(element: etree._Element, blocks: list[Block]) -> None:
    tag = element.tag
    if not isinstance(tag, str) or tag in ("graphic", "lb"):
        return
    if tag == "head":
        text = _clean(" ".join(_segments(element)))
        if text:
            blocks.append(Block(text, "heading"))
        return
    if tag == "list":
        for item in element:
            _collect(item, blocks)
        return
    if tag == "table":
        for row in element.iter("row"):
            cells = [_clean(" ".join(_segments(cell))) for cell in row if cell.tag == "cell"]
            line = " | ".join(c for c in cells if c)
            if line:
                blocks.append(Block(line))
        return
    nested = [child for child in element if child.tag in _BLOCK_TAGS]
    if nested:  # an item or a quote holding paragraphs or a sub-list
        own = _segments(element, skip=frozenset(_BLOCK_TAGS))
        blocks.extend(Block(s) for s in own)
        for child in nested:
            _collect(child, blocks)
        return
    blocks.extend(Block(s) for s in _segments(element))


def _segments(element: etree._Element, skip: frozenset[str] = frozenset()) -> list[str]:
    """The element's text cut at ``<lb/>``, whitespace cleaned, empty pieces dropped."""
    pieces: list[list[str]] = [[]]

    def walk(node: etree._Element) -> None:
        if node.text:
            pieces[-1].append(node.text)
        for child in node:
            if child.tag == "lb":
                pieces.append([])
            elif child.tag not in skip and child.tag != "graphic":
                walk(child)
            if child.tail:
                pieces[-1].append(child.tail)

    walk(element)
    return [text for piece in pieces if (text := _clean("".join(piece)))]


def _clean(text: str) -> str:
    """One line of tidy text: NFC, no invisible characters, single spaces (``index.text``)."""
    from foreign_desk.index.text import normalise  # lazy: a sibling module

    return " ".join(normalise(text).split())


def _same_text(a: str, b: str) -> bool:
    return bool(a) and a.casefold() == b.casefold()


# --------------------------------------------------------------------------------------------
# Metadata: what the page declares about itself

_DATE_META = (
    "article:published_time",
    "og:published_time",
    "article:published",
    "datepublished",
    "publishdate",
    "publish-date",
    "publish_date",
    "pubdate",
    "dtk:publishdate",
    "content_publisheddate",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.created",
    "date",
    "article_date_original",
    "cxenseparse:recs:publishtime",
)
_DATE_RANK = {name: rank for rank, name in enumerate(_DATE_META)}


def _page_metadata(tree: HtmlElement) -> dict[str, str]:
    found: dict[str, str] = {}
    dates: list[tuple[int, str]] = []
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        content = (meta.get("content") or "").strip()
        if not key or not content:
            if (meta.get("http-equiv") or "").lower() == "content-language" and content:
                found.setdefault("language", content)
            continue
        if key in _DATE_RANK:
            dates.append((_DATE_RANK[key], content))
        elif key in ("og:url",):
            found.setdefault("og_url", content)
        elif key in ("og:title", "twitter:title"):
            found.setdefault("title", content)
        elif key in ("og:locale", "language", "content-language", "dc.language"):
            found.setdefault("language", content)
    for element in tree.iter("time"):
        stamp = element.get("datetime")
        if stamp and (element.get("itemprop") == "datePublished" or element.get("pubdate") is not None):
            dates.append((_DATE_RANK["datepublished"], stamp))
    jsonld = _jsonld_published(tree)
    if jsonld:
        dates.append((-1, jsonld))
    if dates:
        found["published"] = min(dates, key=lambda d: d[0])[1]
    for link in tree.iter("link"):
        if (link.get("rel") or "").lower() == "canonical" and link.get("href"):
            found["canonical"] = link.get("href", "").strip()
            break
    else:
        if "og_url" in found:
            found["canonical"] = found["og_url"]
    lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
    if lang:
        found["language"] = lang
    if "title" not in found:
        title = tree.find(".//title")
        if title is not None and title.text:
            found["title"] = title.text
    return found


def _jsonld_published(tree: HtmlElement) -> str | None:
    for script in tree.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except (ValueError, RecursionError):  # broken, or nested deeper than Python's stack
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                value = item.get("datePublished")
                if isinstance(value, str) and value.strip():
                    return value.strip()
                stack.extend(v for k, v in item.items() if k in ("@graph", "mainEntity", "mainEntityOfPage"))
    return None


_HAS_ZONE = re.compile(r"(?:[zZ]|[+-]\d{2}:?\d{2}|\b(?:GMT|UTC|WIB|WITA|WIT|[A-Z]{3,4}))\s*$")
_HAS_TIME = re.compile(r"\d{1,2}:\d{2}")


def _normalise_date(value: str | None) -> tuple[str | None, str | None]:
    """(ISO UTC, local day) from any date string (``parse_published_day``); a time without a
    zone keeps only its day (the zone is unknown)."""
    if not value:
        return None, None
    from foreign_desk.index.dates import parse_published_day  # lazy: a sibling module, imported on first use

    parsed, local_day = parse_published_day(value)
    if parsed and len(parsed) > 10 and _HAS_TIME.search(value) and not _HAS_ZONE.search(value.strip()):
        return parsed[:10], None
    return parsed, local_day


def _published(
    declared: str | None, fallback: tuple[str | None, str | None], text: str, url: str | None
) -> tuple[str | None, str | None]:
    """(``published``, ``local_day``): page metadata first, then the fallback (a feed's date),
    then htmldate's search of the page.

    Page metadata is what the page states in markup meant for machines (``article:published_time``,
    JSON-LD ``datePublished``, ``<time itemprop=datePublished>``, ``pubdate`` meta tags); a date
    htmldate infers from the text or the URL is a guess and comes after the feed's date.
    When the page only gives the day and the fallback has a time on that day (±1 for time
    zones), the fallback's timestamp is kept: it is the same date, said more precisely, and
    the page's day stays the day shown.
    """
    page, page_day = _normalise_date(declared)
    feed, feed_day = _normalise_date(fallback[0])
    feed_day = fallback[1] or feed_day
    if page and len(page) > 10:
        return page, page_day
    if page and feed and len(feed) > 10 and _days_apart(page, feed[:10]) <= 1:
        return feed, page if page != feed[:10] else None
    if page or feed:
        return (page, page_day) if page else (feed, feed_day)
    try:
        import htmldate

        found = htmldate.find_date(text, extensive_search=True, original_date=True, url=url)
    except (ValueError, TypeError):  # htmldate on odd input
        found = None
    return _normalise_date(found)


def _days_apart(a: str, b: str) -> int:
    return abs((datetime.fromisoformat(a) - datetime.fromisoformat(b)).days)


def _language(body: str, declared: str | None) -> str | None:
    """The language of the text; the page's declaration only when the text is too short to tell."""
    from foreign_desk.index.lang import detect_language  # lazy: loads a model on first use
    from foreign_desk.index.readers.common import normalise_language

    return detect_language(body) or normalise_language(declared)


def _article_url(fetched: str | None, declared: str | None) -> tuple[str | None, str | None]:
    """(identity, link): the page's address in canonical form (``canonical_url``, the article's
    identity) and as the page gives it (what a citation links). That is its own canonical link
    when on the fetched site and naming a page (not the home page), else the fetched URL."""
    from foreign_desk.index.fetch.urls import canonical_url  # lazy: not the HTTP client with it

    fetched_c = canonical_url(fetched) if fetched else None
    if declared and len(declared) <= MAX_URL_CHARS:  # a longer one is no link
        declared = urljoin(fetched, declared.strip()) if fetched else declared.strip()
        declared_c = canonical_url(declared)
        parts = urlsplit(declared_c)
        names_a_page = parts.scheme in ("http", "https") and parts.path not in ("", "/")
        same_site = fetched_c is None or urlsplit(fetched_c).hostname == parts.hostname
        if names_a_page and same_site:
            return declared_c, declared
    return fetched_c, fetched.strip() if fetched else None


def _source(sitename: str | None, fallback: str | None, url: str | None) -> str | None:
    """The outlet, spelt as ``index.outlets`` spells it: a known outlet's domain first, then the
    site's own name, then the feed's title, then the host name."""
    from foreign_desk.index.outlets import canonical_outlet, outlet_from_url  # lazy: a sibling module

    known = outlet_from_url(url)
    if known:
        return known
    name = _clean((sitename or "").lstrip("@"))
    host = urlsplit(url).hostname if url else None
    if name and not (host and name.lower().removeprefix("www.") == host.removeprefix("www.")):
        return canonical_outlet(name) or name  # (trafilatura falls back to the host name itself)
    if fallback and _clean(fallback):
        return canonical_outlet(_clean(fallback)) or _clean(fallback)
    return name or host


def _title_from_location(location: str) -> str:
    tail = urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1] if location else ""
    tail = re.sub(r"(\.html?)?(\.gz)?$", "", tail, flags=re.IGNORECASE)
    words = re.sub(r"[-_]+", " ", tail).strip()
    return words[:1].upper() + words[1:] if words else "Untitled"
