"""What every reader shares: decoding bytes, finding paragraphs, shaping blocks, filling metadata.

Readers only know their file format; the rules for what a heading or a standfirst looks
like, and where a missing outlet, date or language comes from, live here once.
"""

from __future__ import annotations

import codecs
import functools
import logging
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from foreign_desk.index.article import MAX_URL_CHARS, Article, Block, ReadProblem
from foreign_desk.index.dates import date_in_text, either_way, parse_published_day
from foreign_desk.index.errors import ReaderError
from foreign_desk.index.lang import detect_language
from foreign_desk.index.outlets import canonical_outlet, outlet_from_url, parse_dateline
from foreign_desk.index.readers.notes import warn
from foreign_desk.index.text import normalise, word_count

log = logging.getLogger(__name__)

MAX_ARTICLE_BYTES = 10_000_000
"""A one-article file bigger than this is not an article (a dump, a log): refused."""
SNIFF_BYTES = 8192

_TERMINAL = re.compile(r"""[.!?…:;,"'”’)\]]$""")
_SENTENCE_END = re.compile(r"""[.!?…:;"'”’)\]]$""")


def problem(path: Path | str, reason: str, line: int | None = None) -> ReadProblem:
    """A ``ReadProblem`` for ``path``, logged once here so every reader reports alike: at
    INFO, since the run's report lists it (``index``'s summary, a reindex's message), and a
    warning too would tell each skipped file twice."""
    found = ReadProblem(path=str(path), reason=reason, line=line)
    log.info("skipped %s", found)
    return found


def decode(data: bytes, *, what: str = "file", legacy_in: str | None = None) -> str:
    """UTF-8 (a BOM is allowed, as is UTF-16 with a BOM) or ``ReaderError`` saying why not.
    With ``legacy_in`` (the file's name, for the warning) bytes that are not UTF-8 are read
    anyway (``_not_utf8``): a plain-text article saved by an old Windows editor. JSON Lines is
    UTF-8 by its spec and keeps the refusal."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ReaderError(f"{what} has a UTF-16 mark but is not valid UTF-16 ({exc.reason})") from None
    if b"\x00" in data[:SNIFF_BYTES] or b"\x00" in data[-SNIFF_BYTES:]:
        raise ReaderError(f"binary {what} (NUL bytes), not text")
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")  # offsets below count the mark's bytes
    except UnicodeDecodeError as exc:
        if legacy_in is None:
            raise ReaderError(
                f"{what} is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
            ) from None
        text = _not_utf8(data, legacy_in, exc.start)
    if "\x00" in text:
        raise ReaderError(f"binary {what} (NUL bytes), not text")
    return text


_BEYOND_ASCII = re.compile("[^\x00-\x7f]")


def _not_utf8(data: bytes, where: str, first: int) -> str:
    """The text of bytes that are not valid UTF-8, with a warning saying how it was read.

    Mostly UTF-8 (a UTF-8 mark, or more characters beyond ASCII read as UTF-8 than places that
    break it: a file cut or joined badly) is read as UTF-8 with each broken place as U+FFFD, so
    one bad byte deep in a file does not turn every "é" in it into "Ã©". Anything else is an old
    Windows text: Windows-1252 (the five bytes it leaves undefined as Latin-1 controls)."""
    text = data.decode("utf-8", "replace").removeprefix("\ufeff")
    broken = text.count("\ufffd") - data.count("\ufffd".encode())
    if data.startswith(codecs.BOM_UTF8) or len(_BEYOND_ASCII.findall(text)) > 2 * broken:
        said = "%s: %s not UTF-8 (the first at byte %s) read as U+FFFD; the rest is UTF-8"
        warn(log, said, where, "1 place" if broken == 1 else f"{broken} places", first)
        return text
    warn(log, "%s: not UTF-8; read as Windows-1252 (save it as UTF-8 if it reads wrong)", where)
    return data.decode("latin-1").translate(_WINDOWS_1252)


_WINDOWS_1252 = {b: bytes([b]).decode("cp1252", "ignore") or chr(b) for b in range(0x80, 0xA0)}
"""Latin-1 text → Windows-1252: bytes 0x80-0x9F, where the two differ (€, curly quotes, dashes)."""


_XML_ENCODING = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:+-]+)""")


def xml_declared_encoding(data: bytes) -> str | None:
    """The encoding an XML declaration at the start of ``data`` names, read as ASCII."""
    m = _XML_ENCODING.match(data[:4096].lstrip())
    return m.group(1).decode("ascii") if m else None


def reads_ascii(label: str) -> bool:
    """Whether the codec ``label`` names reads printable ASCII as ASCII. A label that could be
    read as ASCII (in the page, or with it: an HTTP charset on a page that opens with an ASCII
    ``<``) cannot name one that does not (EBCDIC's cp037 or cp500, UTF-7, UTF-16 and UTF-32 in
    any spelling: "utf16", "U16", the escape codecs): read by it, the text would be gibberish.
    False too for a label no codec has."""
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError):  # no such codec; a NUL in the label
        return False
    return _reads_ascii(name)


_PRINTABLE_ASCII = bytes(range(0x20, 0x5C)) + b"\\u00e9\\n" + bytes(range(0x5D, 0x7F))
"""Printable ASCII, its backslash in escapes (read as text, not as what they stand for), and
none that is no escape (``\\]``: "unicode_escape" warns on it)."""


@functools.cache  # by codec name: a few dozen at most, whatever labels the web sends
def _reads_ascii(name: str) -> bool:
    try:
        return _PRINTABLE_ASCII.decode(name) == _PRINTABLE_ASCII.decode("ascii")
    except (UnicodeError, LookupError):
        return False


def load_bytes(path: Path, limit: int = MAX_ARTICLE_BYTES) -> bytes:
    """The bytes of a one-article file; ``ReaderError`` if unreadable or over ``limit`` bytes.
    The size is checked before reading and the read stops past ``limit`` (the file may grow
    meanwhile): a dump is refused without being held in memory."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise ReaderError(f"file is {size:,} bytes, too large for one article")
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ReaderError(f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ReaderError(f"file is over {limit:,} bytes, too large for one article")
    return data


def load_text(path: Path) -> str:
    """The whole text of a one-article file with ``\n`` line ends; ``ReaderError`` if unreadable
    or empty. Indentation is kept (YAML front matter needs it); ``split_paragraphs`` tidies."""
    text = decode(load_bytes(path), legacy_in=str(path)).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ReaderError("empty file")
    return text


# --- paragraphs and blocks -------------------------------------------------------------------


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of plain text: blank lines separate them; inside a run of lines, a line
    break is kept as a paragraph break (scraped text puts one paragraph per line) unless the
    text is hard-wrapped or the line continues a sentence in lower case."""
    out: list[str] = []
    for chunk in re.split(r"\n\s*\n", normalise(text)):
        out.extend(_unwrap([line for line in chunk.split("\n") if line]))
    return out


def _unwrap(lines: list[str]) -> list[str]:
    if len(lines) < 2:
        return lines
    body = lines[:-1]
    open_ended = sum(not _SENTENCE_END.search(line) for line in body)
    if all(40 <= len(line) <= 100 for line in body) and open_ended * 2 >= len(body):
        return [" ".join(lines)]  # hard-wrapped at a fixed width
    runs: list[list[str]] = []  # joined at the end: growing one string line by line is quadratic
    for line in lines:
        if runs and not _SENTENCE_END.search(runs[-1][-1]) and line[:1].islower():
            runs[-1].append(line)
        else:
            runs.append([line])
    return [" ".join(run) for run in runs]


_NUMBERED_HEADING = re.compile(r"^\d{1,2}[.)]\s+[^\W\d_]")
HEADING_MAX_WORDS = 14
STANDFIRST_MAX_WORDS = 45


def is_numbered_heading(text: str) -> bool:
    """``2. Bertemu dengan Perdana Menteri Jepang``: a listicle section heading."""
    return (
        bool(_NUMBERED_HEADING.match(text))
        and word_count(text) <= HEADING_MAX_WORDS
        and not _TERMINAL.search(text)
    )


def _is_plain_heading(text: str, before: str | None, after: str | None) -> bool:
    """A short title-like line between two full paragraphs (``Serangan Sayap Mudah Terbaca``)."""
    if before is None or after is None:
        return False
    words = word_count(text)
    return (
        2 <= words <= 8
        and (text[:1].isupper() or text[:1].isdigit())
        and not _TERMINAL.search(text)
        and not re.search(r"""[.:;()\[\]"“”|/@]""", text)
        and bool(_SENTENCE_END.search(before))
        and word_count(after) >= 15
    )


def shape_blocks(paragraphs: list[str], *, detect_headings: bool = True) -> tuple[Block, ...]:
    """Label plain paragraphs as headings, a standfirst or body paragraphs.

    The first paragraph is a standfirst when it is short and either the next one opens with
    an outlet dateline or it has no closing punctuation (``NATO puji Jepang ...``).
    """
    blocks: list[Block] = []
    for i, text in enumerate(paragraphs):
        before = paragraphs[i - 1] if i > 0 else None
        after = paragraphs[i + 1] if i + 1 < len(paragraphs) else None
        if i == 0 and after is not None and _is_standfirst(text, after):
            blocks.append(Block(text, "standfirst"))
        elif detect_headings and (
            (is_numbered_heading(text) and _opens_section(after) and not _is_list_item(before))
            or (i > 0 and _is_plain_heading(text, before, after))
        ):
            blocks.append(Block(text, "heading"))
        else:
            blocks.append(Block(text, "paragraph"))
    return tuple(blocks)


def _opens_section(after: str | None) -> bool:
    """A numbered line heads a section only when prose follows, not the next list item."""
    return after is not None and not _NUMBERED_HEADING.match(after) and word_count(after) >= 8


def _is_list_item(text: str | None) -> bool:
    """The line before is itself a short numbered line: this one ends a list."""
    return text is not None and bool(_NUMBERED_HEADING.match(text)) and word_count(text) <= HEADING_MAX_WORDS


def _is_standfirst(text: str, after: str) -> bool:
    if word_count(text) > STANDFIRST_MAX_WORDS or parse_dateline(text) is not None:
        return False
    return not _SENTENCE_END.search(text) or parse_dateline(after) is not None


# --- metadata -------------------------------------------------------------------------------

LANGUAGE_NAMES = {
    "indonesian": "id", "indonesia": "id", "bahasa indonesia": "id", "ind": "id", "in": "id",
    "english": "en", "inggris": "en", "eng": "en",
}  # fmt: skip


def normalise_language(value: Any) -> str | None:
    """``id-ID``, ``Indonesian``, ``ind`` → ``id``; anything unrecognisable → ``None``."""
    if not isinstance(value, str) or not value.strip():
        return None
    key = value.strip().lower().replace("_", "-")
    if key in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[key]
    primary = key.split("-", 1)[0]
    if re.fullmatch(r"[a-z]{2}", primary):
        return primary
    return LANGUAGE_NAMES.get(primary)


def text_field(value: Any) -> str | None:
    """A metadata value as one tidy line: lists are joined (several authors), blanks are None.
    Only a list's own values count: a list nested 500 deep would exhaust the stack."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        parts = [text_field(v) for v in value if not isinstance(v, (list, tuple))]
        joined = ", ".join(p for p in parts if p)
        return joined or None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        tidy = " ".join(normalise(str(value)).split())
        return tidy or None
    return None


MAX_TITLE_CHARS = 1_000
"""A longer headline is cut with "…": real ones stay under 300 characters, and the headline is
part of every citation line (Discord shows 256 of it in an embed title)."""
MAX_NAME_CHARS = 200
"""An outlet or author name longer than this is cut with "…"."""


def clip(text: str | None, limit: int) -> str | None:
    """``text`` in at most ``limit`` characters: cut at the last space in its second half (else
    mid-word) with "…" in the last place."""
    if text is None or len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def link(url: str | None, where: str) -> str | None:
    """``url`` when it fits ``MAX_URL_CHARS``, else ``None`` (logged): the article is kept without
    a link, as a reader would want: its text is still good evidence and its citation still names
    its file, while a cut URL would send them to the wrong page."""
    if url is None or len(url) <= MAX_URL_CHARS:
        return url
    warn(log, "%s: dropped its %s-character URL (over %s)", where, f"{len(url):,}", f"{MAX_URL_CHARS:,}")
    return None


def make_article(
    *,
    path: Path,
    title: str | None,
    blocks: Iterable[Block],
    meta: Mapping[str, Any] | None = None,
    locator: str | None = None,
) -> Article:
    """Build an ``Article``, filling what the metadata lacks from the text itself.

    Outlet: metadata (canonical spelling), else the dateline, else the URL's domain.
    Published: metadata, else a date in the body (``index.dates.date_in_text``), said.
    Language: metadata, else detected from headline and body. ``ReaderError`` when there is
    no headline or no body text. Headline, outlet and author are ``clip``-ped, the URL ``link``-ed.
    """
    meta = meta or {}
    headline = clip(text_field(title), MAX_TITLE_CHARS)
    if not headline:
        raise ReaderError("no title")
    body = tuple(b for b in blocks if b.text.strip())
    paragraphs = [b.text for b in body if b.kind != "heading"]
    if not paragraphs:
        raise ReaderError("no body text")
    where = f"{path} {locator}" if locator else str(path)
    url = link(_url(meta.get("url"), where), where)
    source = clip(_source(meta.get("source"), paragraphs, url), MAX_NAME_CHARS)
    published, local_day = _published(meta.get("published"), paragraphs, where)
    language = normalise_language(meta.get("language")) or detect_language("\n".join([headline, *paragraphs]))
    return Article(
        title=headline,
        blocks=body,
        source=source,
        url=url,
        published=published,
        language=language,
        author=clip(text_field(meta.get("author")), MAX_NAME_CHARS),
        path=str(path),
        locator=locator,
        local_day=local_day,
    )


def _url(given: Any, where: str) -> str | None:
    """The metadata's URL when it is text: a list of them joined by commas (``text_field``), or
    a number, would be cited as the article's address."""
    if given is None or isinstance(given, str):
        return text_field(given)
    warn(log, "%s: its url %s is not text; kept without a link", where, _brief(given))
    return None


def _brief(value: Any) -> str:
    """``value`` for a warning: a list or mapping by its kind alone (the repr of one nested 990
    deep, still valid JSON, exhausts the stack)."""
    return f"(a {type(value).__name__})" if isinstance(value, (list, tuple, dict)) else repr(value)[:80]


def _source(given: Any, paragraphs: list[str], url: str | None) -> str | None:
    name = text_field(given)
    if name:
        return canonical_outlet(name)
    for text in paragraphs[:2]:
        if found := parse_dateline(text):
            return found.outlet
    return outlet_from_url(url)


def _published(given: Any, paragraphs: list[str], where: str) -> tuple[str | None, str | None]:
    """(``published``, ``local_day``) from the metadata, else the day found in the text. A
    value that is no believable date (``2099-01-01``, a Unix time, ``31/02/2023``) is said, as
    is one read month first that could be day first (``12/03/2025``): the article would
    otherwise lose its date, or take another, without a word. A day taken from the text is said
    at INFO with the words it was read from (``-v``): only a weekday-confirmed one is taken, and
    the shipped sample is dated so, which a newcomer's first run should not warn of."""
    if isinstance(given, (str, date, datetime)):
        value = parse_published_day(given)
        if value[0]:
            if either_way(given):
                said = "%s: its published value %r is read month first, %s; YYYY-MM-DD says which"
                warn(log, said, where, given, value[0][:10])
            return value
    found = date_in_text("\n".join(paragraphs))
    day = found.day.isoformat() if found else None
    if given is not None and given != "":
        instead = f"the day in its text, {day}" if found else "no date"
        warn(
            log, "%s: its published value %s is no date it can hold; it has %s", where, _brief(given), instead
        )
    elif found:  # said, not warned of: a day confirmed by its weekday is nearly always right
        said = "%s: no published date; dated %s from %r in its text (a .md or .jsonl file can give its own)"
        log.info(said, where, day, found.words)
    return day, None
