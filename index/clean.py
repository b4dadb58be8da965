"""Boilerplate removal: what a news page wraps around an article never becomes a passage.

Rules are deliberately narrow, each one a shape seen on real Indonesian and English news
pages: related-link lines (``Baca Juga: ...``), ad and scroll markers, author and community
boxes, tag lists and "latest news" footers, photo captions and credits, bylines and editor
initials. A rule matches a whole short paragraph or a marked-off tail of one, never a word
inside a sentence, so body paragraphs that merely mention "baca" or "read" survive.
Cleaning is idempotent and keeps block order.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re

from foreign_desk.index.article import Article, Block
from foreign_desk.index.outlets import parse_dateline
from foreign_desk.index.promo import is_promo, without_promo_tail
from foreign_desk.index.text import CACHED_TEXT_CHARS, fold, normalise, strip_controls, word_count

log = logging.getLogger(__name__)

_IC = re.IGNORECASE

# --- whole paragraphs that are never article text ---------------------------------------------

_RELATED_WORDS = (
    r"baca(?:[ _]+juga)?|lihat(?:[ _]+juga)?|simak(?:[ _]+juga)?|tonton(?:[ _]+juga)?|cek(?:[ _]+juga)?"
    r"|klik(?:[ _]+juga)?|artikel terkait|berita terkait|baca selengkapnya|baca berita lainnya"
    r"|read(?: more| also)?|also read|see also|related(?: articles?| stories| news| coverage)?"
    r"|more(?: on this story)?|watch(?: more)?|recommended|rekomendasi"
)
# "Baca Juga: Swedia Hentikan ...", "SIMAK JUGA - ...", "(Baca: ...)", "[Gambas:Video CNN]"
_RELATED_LINK = re.compile(rf"^[\(\[]?\s*(?:{_RELATED_WORDS})\s*(?::|[-–—»>|]\s)", _IC)
# the marker alone, with the linked headlines in the paragraphs after it
_RELATED_MARKER = re.compile(rf"^(?:{_RELATED_WORDS})\s*[:»>]?$", _IC)
_VIDEO_LINK = re.compile(r"^(?:\[\s*gambas:.*\]|(?:simak|tonton|lihat)\s+(?:juga\s+)?video\b.*)$", _IC)
RELATED_MAX_WORDS = 40
MARKER_FOLLOWERS = 8

_UI_LINES = frozenset(
    [
        "advertisement",
        "iklan",
        "scroll to continue with content",
        "scroll to resume content",
        "scroll to continue",
        "continue reading",
        "continue reading below",
        "story continues below advertisement",
        "skip ad",
        "lanjutkan membaca",
        "lanjut baca",
        "loading",
        "bagikan",
        "share",
        "share this",
        "share this article",
        "sponsored",
        "konten sponsor",
        "halaman selanjutnya",
        "halaman berikutnya",
        "next page",
        "selanjutnya",
        "tutup",
        "close",
        "ads",
        "advertisment",
        "baca artikel selengkapnya",
        "read full article",
        "dapatkan aplikasi",
        "download app",
    ]
)
# markers that turn up glued inside a paragraph of scraped text
_INLINE_MARKERS = re.compile(r"\s*\b(?:SCROLL TO (?:CONTINUE|RESUME) WITH CONTENT|ADVERTISEMENT)\b\s*")
_MARKER_PREFIX = re.compile(r"^Baca_Juga\b\s*")  # suara.com placeholder before real text

# A photo credit: "(twitter.com/NATOpress)", "(Dok. Kemlu)", "(Foto: Tesla)", "(ANTARA FOTO/...)".
# A bare agency "(Reuters)" at the end of a paragraph is a story credit, not a caption: kept.
_CREDIT = (
    r"\(\s*(?:(?:[\w-]+\.)+(?:com|id|net|org|co)/[^()]*"
    r"|(?:dok|doc|dokumentasi|foto|photo|istimewa|ist|unsplash|pexels|freepik|shutterstock|pixabay)\b[^()]*"
    r"|(?:ANTARA FOTO|REUTERS|AP Photo|AFP PHOTO|EPA-EFE)/[^()]*|[^()]*\bGetty Images)\)"
)
_ONLY_CREDIT = re.compile(rf"^{_CREDIT}$", _IC)
_ENDS_WITH_CREDIT = re.compile(rf"{_CREDIT}$", _IC)
_CAPTION_START = re.compile(
    r"^(?:ilustrasi\b|(?:foto|photo|gambar|image|sumber foto|sumber gambar|picture|video|grafis)\s*:"
    r"|image (?:caption|source)\s*[,:]|media caption\s*[,:]|caption\s*:)",
    _IC,
)
_PHOTO_AGENCY = re.compile(  # each credit holds a "/" or "Getty"
    r"ANTARA FOTO/|AP Photo/|AFP PHOTO/|REUTERS/[A-Z]|EPA-EFE/|[/(]\s*Getty Images|via Getty Images"
)
_AGENCY_ONLY = re.compile(
    r"^\(?(?:getty images|reuters|afp|ap|epa|pa media|bbc|afp via getty images|anadolu|istimewa|dok\.?)\)?$",
    _IC,
)
CAPTION_MAX_WORDS = 40
CREDITED_CAPTION_MAX_WORDS = 30

_BYLINE = re.compile(
    r"^(?:(?:penulis|editor|reporter|pewarta|redaktur|penyunting|kontributor|fotografer|sumber|source"
    r"|writer|author|laporan)\s*:|(?:written|reporting|editing|additional reporting|compiled) by\s)\s*\S",
    _IC,
)
_BYLINE_NAMES = re.compile(r"^(?:By|Oleh)\s+[A-Z][\w.'’-]*(?:,?\s+(?:[A-Z][\w.'’-]*|and|dan|&))*$")
_WIRE_FOOTER = re.compile(r"^\((?:reporting|writing|editing|additional reporting|compiled)\b.*\)$", _IC)
BYLINE_MAX_WORDS = 15

_TAGS = re.compile(r"^(?:tags?|topik|topics?|label|kata kunci|keywords?)\s*:", _IC)
_FOLLOW_US = re.compile(
    r"^(?:follow us|ikuti (?:kami|kanal|akun|berita|update|informasi)|join our|gabung (?:ke |di |dengan )?"
    r"(?:saluran|channel|grup|komunitas)|dapatkan (?:update|berita|informasi)|download (?:the|our)"
    r"|unduh aplikasi|sign up for)\b",
    _IC,
)
FOLLOW_MAX_WORDS = 30

# editor initials: "(ard)", "(res / res)", "[sau]", Antara's "(Uu. H - RF / I007)", "(*)"
_INITIALS = r"[\(\[]\s*[a-z]{2,5}(?:\s*/\s*[a-z]{2,5})*\s*[\)\]]"
_ANTARA_CODE = r"\([^()]{1,40}/\s*[A-Z]\d{3}\)"
_ONLY_INITIALS = re.compile(rf"^(?:{_INITIALS}|{_ANTARA_CODE}|\(\*\)|\(end\))$")
_TRAILING_INITIALS = re.compile(rf"(?<=[.!?\"”’])\s*(?:{_INITIALS}|{_ANTARA_CODE}|\(\*\))$")

# --- where the footer starts: this paragraph and everything after it goes ---------------------

_AUTHOR_BOX = r".*\bverified (?:writer|author)\b.*"
_FOOTER_MARKERS = (
    r"member idn times community\b.*|idn times community adalah\b.*"
    r"|(?:tags?|topik|topics?|kata kunci)(?:\s*:.*)?"
    r"|berita terkini lainnya|berita terkait|artikel terkait|berita lainnya|baca berita lainnya"
    r"|berita terpopuler|terpopuler|populer|trending|most read|latest news|top stories"
    r"|related (?:articles|stories|news|topics)|more on this story|more from [\w ]+|editor'?s picks?"
    r"|(?:copyright|hak cipta)\s*(?:©|\(c\)|\d{4}).*|©.*|simak breaking news\b.*|dapatkan update berita\b.*"
    r"|komentar|comments|tulis komentar|leave a comment"
)
_FOOTER_START = re.compile(rf"^(?:{_AUTHOR_BOX}|{_FOOTER_MARKERS})\s*:?$", _IC)
_FOOTER_MARKER = re.compile(rf"^(?:{_FOOTER_MARKERS})\s*:?$", _IC)
"""``_FOOTER_START`` without the author box's rule, for a line that cannot match that rule."""
FOOTER_MAX_WORDS = 25


def clean_article(article: Article) -> Article:
    """``article`` without boilerplate blocks and with its outlet dateline removed.

    The dateline (``Jakarta, IDN Times - ``) is dropped from the text shown: the outlet is
    kept in ``Article.source``, and a dateline is not part of any sentence, so it would only
    clutter ledes, highlights and the first passage.
    """
    blocks = _cut_footer([_with_text(b, normalise(b.text).strip()) for b in article.blocks])
    title_key = _key(article.title)
    headline = title_key if word_count(title_key) >= 3 else ""  # shorter ones are too common to drop
    kept: list[Block] = []
    after_marker = 0
    repeat: tuple[int, Block] | None = None  # the first paragraph that repeats the headline
    for block in blocks:
        text = _tidy(block.text)
        if not text:
            continue
        words = word_count(text)  # counted and folded once here, then handed to every rule
        if after_marker and _headline_like(text, words):
            after_marker -= 1
            continue
        after_marker = 0
        if _RELATED_MARKER.match(text):
            after_marker = MARKER_FOLLOWERS
            continue
        key = _tidied_key(text)
        if _is_boilerplate(text, words, key, headline):
            if repeat is None and block.kind != "heading" and key == title_key:
                repeat = (len(kept), Block(text, block.kind))
            log.debug("dropped boilerplate %r", text[:80])
            continue
        kept.append(_with_text(block, text))
    if repeat is not None and all(b.kind == "heading" for b in kept):
        kept.insert(*repeat)  # a one-line brief that is its headline: the line is all it has
    while True:  # each step can expose work for another; stop when nothing changes
        tidier = _drop_empty_headings(_dedupe(_strip_dateline(kept)))
        if tidier == kept:
            break
        kept = tidier
    if len(kept) != len(article.blocks):
        log.debug("cleaned %s: %d → %d blocks", article.key, len(article.blocks), len(kept))
    return dataclasses.replace(article, blocks=tuple(kept), **_without_controls(article))


_LINES = ("title", "source", "author", "url", "link")


def _without_controls(article: Article) -> dict[str, str]:
    """The article's lines that hold control characters, without them (``strip_controls``): a
    reader's text fields are normalised, but every article passes here, however it was made
    (a page, a feed's item, a caller's ``Article``). Those without them stay as they are."""
    lines: dict[str, str | None] = {name: getattr(article, name) for name in _LINES}
    return {name: clean for name, line in lines.items() if line and (clean := strip_controls(line)) != line}


def _with_text(block: Block, text: str) -> Block:
    """``block`` holding ``text``: itself when that is its text already (most blocks are clean
    as read, and a new frozen block costs more than the comparison)."""
    return block if text == block.text else Block(text, block.kind)


def _key(text: str) -> str:
    """A block's text as compared with others: folded, one space between words (remembered for
    paragraph-sized texts: every block is compared with the headline and its neighbours)."""
    return _fold_words(text) if len(text) > CACHED_TEXT_CHARS else _cached_key(text)


def _tidied_key(text: str) -> str:
    """``_key`` of a block's tidied text: an ASCII one has one space between words already, so
    its key is its lowercase (the key of every block, folded and checked, was a sixth of
    cleaning)."""
    return text.lower() if text.isascii() else _key(text)


def _fold_words(text: str) -> str:
    return _single_spaced(fold(text))


_cached_key = functools.lru_cache(maxsize=16_384)(_fold_words)


def _tidy(text: str) -> str:
    # Each rule is tried only where it can match: most paragraphs have none of them.
    if "SCROLL TO" in text or "ADVERTISEMENT" in text:
        text = _INLINE_MARKERS.sub(" ", text)
    if text.startswith("Baca_Juga"):
        text = _MARKER_PREFIX.sub("", text)
    if text.endswith((")", "]")):
        text = _TRAILING_INITIALS.sub("", text)
    text = without_promo_tail(text)
    return _single_spaced(text)


def _single_spaced(text: str) -> str:
    """``text`` with one space between words: most paragraphs already are, and the test that
    says so (every space character but the plain one is unprintable) is cheaper than a split."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def _headline_like(text: str, words: int) -> bool:
    """A linked headline under a bare ``Baca juga:``: short, capitalised, no closing stop."""
    return (
        words <= 20
        and (text[:1].isupper() or text[:1].isdigit() or text[:1] in "\"“'‘•-")
        and not re.search(r"[.!?…:;,\"”’]$", text)
    )


def _is_boilerplate(text: str, words: int, key: str, headline: str) -> bool:
    """Whether tidied ``text`` (``words`` long, folded to ``key``) is a line no article needs.

    Most rules fit short lines only, so a body paragraph is weighed against a few rules."""
    if words == 0 or _is_ui_line(text):
        return True
    if words <= RELATED_MAX_WORDS and (_RELATED_LINK.match(text) or _VIDEO_LINK.match(text)):
        return True
    if _ONLY_INITIALS.match(text) or _WIRE_FOOTER.match(text):
        return True
    if words <= BYLINE_MAX_WORDS and (_BYLINE.match(text) or _BYLINE_NAMES.match(text) or _TAGS.match(text)):
        return True
    if (words <= FOLLOW_MAX_WORDS and _FOLLOW_US.match(text)) or is_promo(text, words):
        return True
    if words <= FOOTER_MAX_WORDS and _is_footer_start(text):
        return True  # a footer marker early in the article: the line goes, the article stays
    return _repeats_headline(text, key, headline) or _is_caption(text, words)


def _is_ui_line(text: str) -> bool:
    """An ad, scroll or share marker alone on its line. Tidied ASCII text folds to a key of its
    own length, so one longer than every marker is not folded at all."""
    text = text.strip(" .:!-–—|")
    return (len(text) <= _UI_LINE_MAX_CHARS or not text.isascii()) and _key(text) in _UI_LINES


_UI_LINE_MAX_CHARS = max(map(len, _UI_LINES))


def _repeats_headline(text: str, key: str, headline: str) -> bool:
    """The headline (``headline``: its key, or empty) repeated as a paragraph, or glued to a
    caption: ``<headline>Ilustrasi bendera Jepang ... (twitter.com/NATOpress)``."""
    if not headline or not key.startswith(headline):
        return False
    if key == headline:
        return True
    rest = text[len(headline) :] if _key(text[: len(headline)]) == headline else ""
    return rest[:1].isalpha() or bool(rest and _is_caption(rest.strip(), word_count(rest)))


def _is_caption(text: str, words: int) -> bool:
    """Photo captions and credits."""
    if _ONLY_CREDIT.match(text) or _AGENCY_ONLY.match(text):
        return True
    if words > CAPTION_MAX_WORDS:
        return False
    if _CAPTION_START.match(text) or (("/" in text or "Getty" in text) and _PHOTO_AGENCY.search(text)):
        return True
    return words <= CREDITED_CAPTION_MAX_WORDS and bool(_ENDS_WITH_CREDIT.search(text))


def _is_footer_start(text: str) -> bool:
    """Whether ``text`` marks where the footer starts. The author box's rule tries every place
    in the line for "verified" (a third of cleaning's regex time): an ASCII line without the
    word, any case, is weighed against the other rules only."""
    if text.isascii() and "verified" not in text.lower():
        return _FOOTER_MARKER.match(text) is not None
    return _FOOTER_START.match(text) is not None


def _cut_footer(blocks: list[Block]) -> list[Block]:
    """Drop the page footer: from the first footer marker in the article's second half on.

    The author box, tag list and "latest news" rail come after the last paragraph; a marker
    in the first half is more likely a real paragraph, so it is left to the line rules.
    """
    half = len(blocks) // 2
    for i in range(half, len(blocks)):
        text = blocks[i].text
        if word_count(text) <= FOOTER_MAX_WORDS and _is_footer_start(text):
            log.debug("footer from block %d: %r", i, text[:60])
            return blocks[:i]
    return blocks


def _dedupe(blocks: list[Block]) -> list[Block]:
    """Drop a block repeating the one before it (scrapes often double a paragraph)."""
    out: list[Block] = []
    last = None  # the key of the block kept last (a dropped one has the same)
    for block in blocks:
        key = _tidied_key(block.text)
        if key != last:
            out.append(block)
        last = key
    return out


def _drop_empty_headings(blocks: list[Block]) -> list[Block]:
    """A heading whose section lost all its paragraphs (or never had any) goes too."""
    out: list[Block] = []
    for i, block in enumerate(blocks):
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if block.kind == "heading" and (nxt is None or nxt.kind == "heading"):
            continue
        out.append(block)
    return out


def _strip_dateline(blocks: list[Block]) -> list[Block]:
    """Remove the outlet dateline from the first body paragraph and any standfirst before it."""
    out = list(blocks)
    for i, block in enumerate(out):
        if block.kind == "heading":
            continue
        rest = block.text
        while (found := parse_dateline(rest)) is not None:  # syndicated copy can carry two
            rest = rest[found.end :].strip()
        if rest != block.text:
            out[i] = Block(rest[:1].upper() + rest[1:], block.kind)
        if block.kind != "standfirst":
            break
    return out
