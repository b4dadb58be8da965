"""Markdown articles with YAML front matter (title, url, source, published, language, author).

``#`` headings become section headings (a lone leading ``# Title`` is the headline when the
front matter has none); emphasis, links and images are reduced to the plain words a reader
sees, so passages and full-text search hold no Markdown syntax.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from foreign_desk.index.article import Article, Block, ReadProblem
from foreign_desk.index.errors import ReaderError
from foreign_desk.index.readers.common import load_text, make_article, problem, shape_blocks, text_field
from foreign_desk.index.readers.notes import warn
from foreign_desk.index.text import normalise

log = logging.getLogger(__name__)

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?:(.*?)\n)??(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
"""``---``, the YAML, ``---`` (or ``...``): the YAML may be nothing at all (Jekyll's ``---`` twice)."""
_ATX = re.compile(r"^(#{1,6})(?:\s+|$)")
_SETEXT = re.compile(r"^(=+|-+)\s*$")
_RULE = re.compile(r"^(?:[-*_]\s*){3,}$")
_FENCE = re.compile(r"^(```|~~~)")
_BULLET = re.compile(r"^[-*+]\s+")
_ORDERED = re.compile(r"^\d{1,3}[.)]\s+")
_LINK_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S+")

MAX_FRONT_MATTER_CHARS = 64_000
"""Front matter holds a handful of short fields; a block longer than this is not metadata."""


class _AliasRefused(yaml.YAMLError):
    """An anchor reference (``*name``) in front matter."""


class _NoAliasLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses aliases: nine nested references to a nine-item list make a
    "billion laughs" of 9**9 strings from 400 bytes, and front matter never needs them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise _AliasRefused(None, None, "aliases are not allowed", self.peek_event().start_mark)
        return super().compose_node(parent, index)


def _day_or_text(loader: yaml.SafeLoader, node: Any) -> Any:
    """A value YAML reads as a date (``2025-03-12``), or its text when no such day exists
    (``2025-02-30``, any key): the article is kept and says it has no date it can hold, as a
    JSON Lines one does, rather than the whole file being refused."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_NoAliasLoader.add_constructor("tag:yaml.org,2002:timestamp", _day_or_text)


# Every rule stops at the next opening delimiter, so a paragraph of 200 KB of ``[`` or
# ``*a `` is read in linear time (a span that may hold its own delimiter is scanned to the
# end of the text from every opener: quadratic).
_INLINE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"!\[[^\[\]]*\]\([^()]*\)"), ""),  # images: alt text is a caption, not body
    (re.compile(r"!\[[^\[\]]*\]\[[^\[\]]*\]"), ""),
    (re.compile(r"\[([^\[\]]+)\]\([^()]*\)"), r"\1"),  # [text](url)
    (re.compile(r"\[([^\[\]]+)\]\[[^\[\]]*\]"), r"\1"),  # [text][ref]
    (re.compile(r"<(https?://[^<>\s]+)>"), r"\1"),  # <http://autolink>
    (re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>"), ""),  # inline HTML tags
    (re.compile(r"`([^`]+)`"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)((?:(?!\1).)+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_]+?)(?<=\S)_(?![\w_])"), r"\1"),
    (re.compile(r"~~(?=\S)((?:(?!~~).)+?)(?<=\S)~~"), r"\1"),
]
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>~|])")
_HIDDEN = 0xE000  # escaped characters wait in the private-use area while the rules run


def plain(text: str) -> str:
    """Markdown inline syntax reduced to the words shown (``**NATO** [says](u)`` → ``NATO says``)."""
    text = _ESCAPE.sub(lambda m: chr(_HIDDEN + ord(m.group(1))), text)
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    text = re.sub("[\ue000-\ue07f]", lambda m: chr(ord(m.group()) - _HIDDEN), text)
    return " ".join(text.split())


def split_front_matter(text: str, where: str = "front matter") -> tuple[dict[str, Any], str]:
    """The YAML front matter as a dict (keys lowercased) and the Markdown body after it. Hugo's
    TOML front matter (``+++``) is refused as such: read as text, it said "no title". A value
    that YAML cut at `` #`` is said on stderr, naming ``where`` (``_say_cut_values``)."""
    if re.match(r"\A\+\+\+[ \t]*\n", text):
        raise ReaderError("TOML front matter (+++) is not read: write it as YAML between '---' lines")
    if not re.match(r"\A---[ \t]*\n", text):
        return {}, text
    m = _FRONT_MATTER.match(text)
    if m is None:
        raise ReaderError("front matter opened with '---' is never closed")
    yaml_text = m.group(1) or ""
    if len(yaml_text) > MAX_FRONT_MATTER_CHARS:
        raise ReaderError(f"front matter is over {MAX_FRONT_MATTER_CHARS:,} characters")
    try:
        meta = yaml.load(yaml_text, Loader=_NoAliasLoader)
    except _AliasRefused:
        raise ReaderError("YAML front matter uses an alias (*name); write the value out") from None
    except RecursionError:
        raise ReaderError("YAML front matter is nested too deeply") from None
    except (ValueError, OverflowError) as exc:  # an integer of 5,000 digits
        raise ReaderError(f"unreadable value in YAML front matter ({str(exc)[:80]})") from None
    except yaml.YAMLError as exc:
        raise ReaderError(_yaml_problem(exc)) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ReaderError("front matter is not a mapping of keys to values")
    meta = {str(k).strip().lower(): v for k, v in meta.items()}
    _say_cut_values(yaml_text, meta, where)
    return meta, text[m.end() :]


_PLAIN_LINE = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:[ \t]+([^'\"\s].*?)[ \t]*$")
"""``key: value`` at the top level, the value not quoted (a quoted one keeps its ``#``)."""


def _say_cut_values(yaml_text: str, meta: dict[str, Any], where: str) -> None:
    """Warn where YAML read `` #`` in a plain value as a comment and cut the value there:
    ``title: Indonesia #1 partner`` is the title "Indonesia". Comment lines, and comments after a
    date or number (``published: 2025-03-12 # WIB``), are comments and pass without a word."""
    for line in yaml_text.split("\n"):
        m = _PLAIN_LINE.match(line)
        if m is None or " #" not in f" {m.group(2)}":
            continue
        key, raw = m.group(1).lower(), m.group(2)
        value = meta.get(key)
        cut = raw[raw.index("#") if raw.startswith("#") else raw.index(" #") + 1 :]
        if (value is None or isinstance(value, str)) and cut not in (value or ""):
            said = "%s: front matter %s is cut at ' #' (YAML reads a comment), leaving %r; put it in quotes"
            warn(log, said, where, key, value or "")


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """Where the front matter breaks and why, as YAML says it, with the fix for the usual cause:
    a headline holding ": " ("title: NATO: a new era") reads as a second key."""
    mark, why = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
    where = f" at line {mark.line + 2}" if mark is not None else ""
    hint = " (put a value holding ': ' in quotes)" if why == "mapping values are not allowed here" else ""
    return f"broken YAML front matter{where}" + (f": {why}{hint}" if why else "")


def parse_body(body: str) -> list[tuple[str, int]]:
    """Markdown body → ``(text, level)`` items in order; level 0 is a paragraph, 1-6 a heading."""
    items: list[tuple[str, int]] = []
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        if lines:
            text = plain(" ".join(lines))
            if text:
                items.append((text, 0))
            lines.clear()

    for raw in body.split("\n"):
        line = raw.strip()
        if _FENCE.match(line):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            if line:
                lines.append(line)
            else:
                flush()
            continue
        line = re.sub(r"^(?:>\s?)+", "", line).strip()  # blockquotes read as text
        if _SETEXT.match(line) and len(lines) == 1:
            items.append((plain(lines[0]), 1 if line.startswith("=") else 2))
            lines.clear()
            continue
        if not line or _RULE.match(line):
            flush()
            continue
        if m := _ATX.match(line):
            flush()
            if text := plain(_heading_text(line[m.end() :])):
                items.append((text, len(m.group(1))))
            continue
        if _LINK_DEF.match(line):
            continue
        if _BULLET.match(line) or _ORDERED.match(line):  # each list item is its own paragraph
            flush()
            lines.append(_BULLET.sub("", line))
            flush()
            continue
        lines.append(line)
    flush()
    return items


def _heading_text(text: str) -> str:
    """An ATX heading's text without its optional closing ``#`` run (``Title ##`` → ``Title``)."""
    bare = text.rstrip().rstrip("#")
    return bare.rstrip() if not bare or bare[-1].isspace() else text.rstrip()


def read(path: Path) -> Iterator[Article | ReadProblem]:
    """Yield the one article in ``path``, or a ``ReadProblem`` saying why it can't be read."""
    try:
        meta, body = split_front_matter(load_text(path), str(path))
        items = parse_body(normalise(body))
        title = text_field(meta.get("title"))
        if not title and items and items[0][1] == 1:
            title = items.pop(0)[0]
        yield make_article(path=path, title=title, blocks=_blocks(items, meta), meta=_meta(meta))
    except ReaderError as exc:
        yield problem(path, str(exc))


def _blocks(items: list[tuple[str, int]], meta: dict[str, Any]) -> list[Block]:
    blocks: list[Block] = []
    standfirst = text_field(meta.get("standfirst") or meta.get("subtitle"))
    if standfirst:
        blocks.append(Block(standfirst, "standfirst"))
    run: list[str] = []  # paragraphs since the last heading, shaped together

    def flush() -> None:
        if run:
            shaped = shape_blocks(run, detect_headings=False)
            if blocks:  # only the article's very first paragraph may be a standfirst
                shaped = tuple(Block(b.text, "paragraph") for b in shaped)
            blocks.extend(shaped)
            run.clear()

    for text, level in items:
        if level:
            flush()
            blocks.append(Block(text, "heading"))
        else:
            run.append(text)
    flush()
    return blocks


def _meta(meta: dict[str, Any]) -> dict[str, Any]:
    """Front-matter keys under the names ``make_article`` reads (``date`` → ``published``)."""
    aliases = {
        "published": ("published", "date", "published_at", "pubdate"),
        "language": ("language", "lang"),
        "source": ("source", "outlet", "publisher"),
        "url": ("url", "link", "canonical_url"),
        "author": ("author", "authors", "byline"),
    }
    out: dict[str, Any] = {}
    for key, names in aliases.items():
        for name in names:
            if meta.get(name) not in (None, "", []):
                out[key] = meta[name]
                break
    return out
