"""Discord's size limits, and cutting text to fit them on a sentence boundary with an ellipsis.

Every string the bot sends goes through ``fit`` (or ``fit_markdown`` when it is article text to
escape), so a message can never be refused with 50035 for its length, and no headline or typed
text can flip the rest of a line with a bidirectional override (U+202E shows "olleh" for "hello").
"""

from __future__ import annotations

import bisect
import contextlib
import ipaddress
import re
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import discord

CONTENT_MAX = 2000
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FIELDS_MAX = 25
FOOTER_MAX = 2048
AUTHOR_NAME_MAX = 256
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
BUTTON_LABEL_MAX = 80
BUTTONS_PER_ROW = 5
ROWS_MAX = 5
URL_MAX = 512
CHOICES_MAX = 25
CHOICE_MAX = 100

ELLIPSIS = "…"
# A sentence ends at . ! ? … (optionally followed by closing quotes or brackets) before whitespace.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)")
_WORD_END = re.compile(r"\S(?=\s)")
_URL = r"<[^: >]+:/[^ >]+>|(?:https?|steam)://[^\s<]+[^<.,:;\"'”’)\]\s]"
_MARKDOWN = re.compile(
    rf"(?P<url>{_URL})|(?P<indent>^[^\S\n]*)(?P<lead>[>#-])|(?P<char>[_\\~|*`\[\]])", re.MULTILINE
)
"""A link (discord.py's pattern, ending before a closing bracket or quote as Discord's does: left
as written), a quote, heading or list mark opening a line, or a character that formats."""
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
"""Bidirectional embeddings, overrides and isolates: an unclosed one reverses what follows it on
the line (the bot's own words too). Marks (U+200E/F) only weigh one spot and stay."""
_TOKEN = re.compile(r"<(?=@[!&]?\d|[#/:]|a:|t:|id:)")
"""The start of a mention, channel, command, emoji, timestamp or guide token (``<@1>``, ``<#1>``,
``</ask:1>``, ``<t:1>``): ``escape_mentions`` breaks only mentions of real-length ids, after @."""


def escape(text: str, *, previews: bool = True) -> str:
    """Article or user text made inert: Markdown escaped, mentions and other ``<…>`` tokens broken
    with a zero-width space; with ``previews=False`` (``escape_content``) bare links are wrapped in
    ``<…>`` too.

    ``allowed_mentions`` none is what guarantees nobody is pinged; escaping the mention syntax as
    well keeps ``<@id>`` from even rendering as a mention, and ``<#id>``, ``<t:…>``, ``</cmd:id>``
    and custom emoji from rendering at all. Not ``discord.utils.escape_markdown``: it takes all
    from the first ``[`` to the last ``)`` of a line for one masked link and escapes only that
    ``[``, so a second link (and any formatting between) stayed live. Every bracket is escaped
    here, which also makes the text safe inside the ``[...]`` of a masked link.
    """
    return inert(_MARKDOWN.sub(lambda m: _escape_one(m, previews), _BIDI.sub("", text)))


def inert(text: str) -> str:
    """Mentions and other ``<…>`` tokens broken with a zero-width space, bidirectional controls
    dropped, Markdown left as it is: for footers, which render no Markdown (a backslash would
    show) but must not show a mention either."""
    return _TOKEN.sub("<\u200b", discord.utils.escape_mentions(_BIDI.sub("", text)))


def escape_content(text: str) -> str:
    """``escape`` for a message's text, where Discord previews each bare link in an embed below
    it: a topic or a filter naming a page would have the bot show that page's preview to the
    channel. A link in ``<…>`` stays a link, without the preview."""
    return escape(text, previews=False)


def plain_words(text: str) -> str:
    """What a user typed, as words: format characters (zero-width, bidirectional controls, soft
    hyphens) dropped and whitespace runs made one space, so that invisible input reads as empty."""
    if not text.isascii():
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return " ".join(text.split())


NOISE = re.compile(r"<(?:@[!&]?|#|a?:\w+:)\d+>|@(?:everyone|here)\b")
"""User, role and channel mentions, custom emoji, @everyone: no words to ask about (a mention
in a question made its answer weak: "@everyone Chile power cut")."""


def without_noise(text: str) -> str:
    """``text`` with its mentions and custom emoji (``NOISE``) taken out."""
    return " ".join(NOISE.sub(" ", text).split())


def has_words(text: str) -> bool:
    """Whether ``text`` holds a letter or a digit (punctuation and emoji alone ask nothing)."""
    return any(ch.isalnum() for ch in text)


def _escape_one(match: re.Match[str], previews: bool) -> str:
    if match["url"]:
        url = match["url"]
        return url if previews or url.startswith("<") else f"<{url}>"
    return (match["indent"] or "") + "\\" + (match["lead"] or match["char"])


def _cuts(text: str) -> tuple[list[int], list[int]]:
    sentences = [m.end() for m in _SENTENCE_END.finditer(text)]
    words = [m.end() for m in _WORD_END.finditer(text)]
    return sentences, words


def fit(
    text: str, limit: int, transform: Callable[[str], str] = lambda s: s, *, whole_words: bool = False
) -> str:
    """``transform(text)`` if it fits in ``limit`` characters, else a cut that does, ending in "…".

    The cut is at the last sentence end that fits (when it keeps at least a third of the room),
    else at the last word end, else mid-word. ``transform`` (escaping) is applied before
    measuring, so the result always fits. With ``whole_words`` (text that follows other text,
    where "Aks…" reads as a word of its own) a short word cut is kept, and where no word fits
    the ellipsis stands alone.
    """
    if limit <= 0:
        return ""
    text = _BIDI.sub("", text)
    whole = transform(text)
    if len(whole) <= limit:
        return whole
    if limit < 2:
        return ELLIPSIS[:limit]
    text = text.rstrip()
    sentences, words = _cuts(text)

    def render(end: int, sep: str) -> str:
        return transform(text[:end].rstrip()) + sep + ELLIPSIS

    def best(cuts: list[int], sep: str) -> str | None:
        # The transformed length grows with the cut, so the longest fitting cut is found by bisection.
        lengths = _Lengths(cuts, lambda end: len(render(end, sep)))
        n = bisect.bisect_right(lengths, limit)
        while n and lengths[n - 1] > limit:  # escaping is only nearly monotone; never trust a probe
            n -= 1
        return render(cuts[n - 1], sep) if n else None

    room = limit - 2
    sentence = best(sentences, " ")
    if sentence is not None and len(sentence) >= room / 3:
        return sentence
    word = best(words, " ")
    if word is not None and (whole_words or len(word) >= room / 3):
        return word
    if whole_words:
        return ELLIPSIS
    chars = best(list(range(1, len(text))), "")
    return chars if chars is not None else ELLIPSIS


def fit_start(text: str, limit: int, transform: Callable[[str], str] = lambda s: s) -> str:
    """The longest run of whole sentences ending ``text`` that fits, after "… " when cut ("" if none)."""
    whole = transform(text)
    if len(whole) <= limit:
        return whole
    starts = [m.end() for m in re.finditer(r"[.!?…][\"'”’)\]]*\s+", text)]
    for start in starts:
        candidate = ELLIPSIS + " " + transform(text[start:])
        if len(candidate) <= limit and text[start:].strip():
            return candidate
    return ""


class _Lengths:
    """A lazy sequence ``f(cut)`` over ``cuts`` for ``bisect`` (computes only what it probes)."""

    def __init__(self, cuts: list[int], f: Callable[[int], int]) -> None:
        self.cuts, self.f = cuts, f

    def __len__(self) -> int:
        return len(self.cuts)

    def __getitem__(self, i: int) -> int:
        return self.f(self.cuts[i])


def join_within(
    parts: list[str], sep: str, more: Callable[[int], str], limit: int = EMBED_DESCRIPTION_MAX
) -> str:
    """``parts`` joined by ``sep``, as many as fit in ``limit`` characters, then ``more(n)``
    for the ``n`` left out: a long list is cut between items, never inside one."""
    out: list[str] = []
    size = 0
    for i, part in enumerate(parts):
        tail = more(len(parts) - i)
        if size + len(part) + len(sep) > limit - len(tail) - len(sep):
            out.append(tail)
            break
        out.append(part)
        size += len(part) + len(sep)
    return sep.join(out)


def fit_markdown(text: str, limit: int, *, whole_words: bool = False) -> str:
    """Article or user text, escaped, cut to ``limit`` (``whole_words``: as ``fit``)."""
    return fit(text, limit, escape, whole_words=whole_words)


def safe_url(url: str | None) -> str | None:
    """An http(s) URL usable in a masked link, an embed's url or a link button, or None.

    Discord refuses a whole message (50035 "Not a well formed URL") whose embed or button holds
    an address without a dotted host (``http://newsroom/story``, an intranet's): such an article
    is shown unlinked rather than the answer lost."""
    if not url or not re.match(r"^https?://[^\s/]+", url, re.IGNORECASE) or not _dotted_host(url):
        return None
    url = url.strip().replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    url = url.replace("<", "%3C").replace(">", "%3E")
    return url if len(url) <= URL_MAX else None


_HOST_LABEL = re.compile(r"(?!-)[^\W_](?:[\w-]*[^\W_])?")


def _dotted_host(url: str) -> bool:
    """Whether ``url`` names an IP address or a host of two or more labels, on a valid port."""
    try:
        parts = urlsplit(url.strip())
        host, _ = parts.hostname, parts.port
    except ValueError:  # a port out of range, a broken IPv6 literal
        return False
    if not host:
        return False
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host) is not None
    labels = host.removesuffix(".").split(".")
    return len(labels) > 1 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def embed_size(embed: dict[str, Any]) -> int:
    """Characters that count towards the 6000 per message (title, description, fields, footer, author)."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for f in embed.get("fields") or []:
        total += len(f.get("name") or "") + len(f.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def problems(content: str | None = None, embeds: list[discord.Embed] | None = None) -> list[str]:
    """Every Discord limit a message would break (empty when it is fine); used by tests and asserts."""
    found: list[str] = []
    if content is not None and len(content) > CONTENT_MAX:
        found.append(f"content {len(content)} > {CONTENT_MAX}")
    dicts: list[dict[str, Any]] = [dict(e.to_dict()) for e in embeds or []]
    if len(dicts) > EMBEDS_MAX:
        found.append(f"{len(dicts)} embeds > {EMBEDS_MAX}")
    for i, e in enumerate(dicts):
        for key, limit in (("title", EMBED_TITLE_MAX), ("description", EMBED_DESCRIPTION_MAX)):
            if len(e.get(key) or "") > limit:
                found.append(f"embed {i} {key} {len(e.get(key) or '')} > {limit}")
        fields = e.get("fields") or []
        if len(fields) > FIELDS_MAX:
            found.append(f"embed {i} has {len(fields)} fields > {FIELDS_MAX}")
        for f in fields:
            if not f.get("name") or len(f["name"]) > FIELD_NAME_MAX:
                found.append(f"embed {i} field name {len(f.get('name') or '')}")
            if not f.get("value") or len(f["value"]) > FIELD_VALUE_MAX:
                found.append(f"embed {i} field value {len(f.get('value') or '')}")
        footer = (e.get("footer") or {}).get("text") or ""
        if len(footer) > FOOTER_MAX:
            found.append(f"embed {i} footer {len(footer)} > {FOOTER_MAX}")
    total = sum(embed_size(e) for e in dicts)
    if total > EMBED_TOTAL_MAX:
        found.append(f"embeds total {total} > {EMBED_TOTAL_MAX}")
    return found
