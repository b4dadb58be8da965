"""Control characters in an article (a terminal's escape sequences, C1 controls, bidi overrides
that turn a citation around) are not stored: each reader's text, headline, outlet, author and
URL, and a feed's, come without them. An article without them hashes as it did."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from foreign_desk.index.article import ReadProblem
from foreign_desk.index.config import load_settings
from foreign_desk.index.fetch.feed import parse_feed
from foreign_desk.index.indexing.prepare import CorpusReader, Prepared, prepare
from foreign_desk.index.readers import read_path
from foreign_desk.index.text import normalise, strip_controls

BIDI = {chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}
ESC = "\x1b[2J\x1b]8;;https://evil.example\x07"  # clear the screen; a hidden link
BODY = "The two ministers met in the capital on Monday. They agreed to hold joint patrols in the strait."


def controls(text: str) -> list[str]:
    """The characters ``strip_controls`` must have taken out of ``text``."""
    return [c for c in text if (unicodedata.category(c) == "Cc" and c not in "\n\t") or c in BIDI]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kapal\x1b[2J tiba.", "Kapal[2J tiba."),
        ("a\x00b\x07c\x7fd\x9be\x80f", "abcdef"),
        ("Rapat\x1fusai\x1c\x85kemarin", "Rapat usai kemarin"),  # separators str.split() knows
        ("tab\there\x0bvt\x0cff", "tab here vt ff"),
        ("harga \u202e001$\u202c naik \u2067x\u2069", "harga 001$ naik x"),
        ("Kapal tiba.\n\nAwak selamat.", "Kapal tiba.\n\nAwak selamat."),
        # kept: letters, quotes, a flag; a bidi mark (it reorders nothing but the punctuation by it)
        *((kept, kept) for kept in ["Türkiye \u201cmenolak\u201d \U0001f1ee\U0001f1e9", "Paris \u200e(AFP)"]),
    ],
)
def test_normalise_drops_control_characters_and_keeps_the_rest(text: str, expected: str) -> None:
    assert normalise(text) == expected
    assert not controls(strip_controls(text))


def test_text_without_controls_is_the_same_object() -> None:
    text = "Menlu bertemu\u00a0mitra.\n\n\u201cKami sepakat,\u201d\tkatanya."
    assert strip_controls(text) is text


def write_articles(folder: Path) -> None:
    folder.mkdir()
    (folder / "a.txt").write_text(f"Kapal{ESC} tiba\n\n{BODY}\x1b[31m Red.\n", encoding="utf-8")
    (folder / "b.md").write_text(
        f'---\ntitle: "Talks \\u202eend\\u202c"\nsource: "Wire\\x1b[5m"\nauthor: "A\\x9b2J"\n'
        f'url: "https://w.example/b\\x1b[2J"\n---\n\n{BODY}\u2066 Done\u2069.\n',
        encoding="utf-8",
    )
    row = {
        "title": f"Row{ESC}",
        "text": f"{BODY}\u0000\x9b2J",
        "source": "Desk\x07",
        "url": "https://w.example/c",
    }
    (folder / "c.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    page = "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Page\x1b[2J title</title>"
    page += "</head><body><article><h1>Page\x1b]0;x title</h1>"
    page += "".join(f"<p>Paragraph {n}: {BODY}\x1b[1m \u202eend\u202c.\x9b2J</p>" for n in range(4))
    (folder / "d.html").write_text(page + "</article></body></html>", encoding="utf-8")


def test_no_reader_stores_a_control_character(tmp_path: Path) -> None:
    write_articles(tmp_path / "news")
    settings = load_settings(None, environ={}, data_dir=str(tmp_path / "data"))
    reader = CorpusReader([tmp_path / "news"], settings)
    prepared: list[Prepared] = list(reader)
    assert not reader.problems and len(prepared) == 4
    for item in prepared:
        a = item.article
        texts = [a.title, a.source, a.author, a.url, a.link, item.lede, *(b.text for b in a.blocks)]
        texts += [*item.contexts, *(p.text for p in item.passages), *(p.section or "" for p in item.passages)]
        assert not [c for t in texts if t for c in controls(t)], a.path
    by_file = {Path(p.article.path or "").name: p.article for p in prepared}
    assert by_file["a.txt"].title == "Kapal[2J]8;;https://evil.example tiba"
    md = by_file["b.md"]  # its front matter's values
    assert (md.title, md.source, md.author) == ("Talks end", "Wire[5m", "A2J")
    assert md.url == "https://w.example/b[2J"


def test_an_article_without_control_characters_hashes_as_it_did(tmp_path: Path) -> None:
    """An existing store must not re-embed its clean articles: the hash was measured before."""
    path = tmp_path / "a.md"
    path.write_text(
        '---\ntitle: "Menlu bertemu mitra Jepang di Tokyo"\nsource: Contoh Warta\n'
        "url: https://warta.example/a/1\npublished: 2025-03-12\n---\n\n"
        "JAKARTA \u2014 Menteri luar negeri bertemu mitranya di Tokyo pada Senin\u00a0pagi. "
        "Keduanya membahas kerja sama maritim.\n\n"
        "\u201cKami sepakat,\u201d katanya\u200e. Caf\u00e9 itu\tramai.\n",
        encoding="utf-8",
    )
    (article,) = read_path(path)
    settings = load_settings(None, environ={}, data_dir=str(tmp_path / "data"))
    prepared = prepare(article, settings)  # type: ignore[arg-type]
    assert isinstance(prepared, Prepared)
    assert prepared.content_hash == "2b8b9ac69548b8c23120231ab320b424258eba4e"


def test_a_feeds_items_come_without_control_characters() -> None:
    item = (
        "<item><title>Summit &amp; talks&#27;[2J\x1b]0;x\x07</title><link>https://w.example/s\x1b[2J</link>"
        "<description>&lt;p&gt;Leaders met&#x1b;[31m.\x9b&lt;/p&gt;</description>"
        "<author>Desk\u202e</author></item>"
    )
    channel = f"<channel><title>Wire\x1b[5m</title>{item}</channel>"
    feed = parse_feed(f"<rss version='2.0'>{channel}</rss>".encode())
    (got,) = feed.items
    texts = [feed.title, got.title, got.link, got.summary, got.author, got.canonical_link]
    assert not [c for t in texts if t for c in controls(t)], texts
    assert got.title.startswith("Summit & talks[2J")


@pytest.mark.parametrize("reference", ["&#27;[2J", "&#x1B;]0;title&#7;", "&#8;"])
def test_a_page_holding_a_reference_to_a_control_keeps_its_body(tmp_path: Path, reference: str) -> None:
    """The parser made the reference a character XML cannot hold: "no article body found"."""
    paragraphs = "".join(f"<p>Paragraph {n}: {BODY}{reference}</p>" for n in range(4))
    head = f"<head><meta charset='utf-8'><title>Talks{reference} end</title></head>"
    path = tmp_path / "page.html"
    path.write_text(
        f"<!DOCTYPE html><html lang='en'>{head}<body><article>{paragraphs}</article></body></html>"
    )
    (article,) = read_path(path)
    assert not isinstance(article, ReadProblem), article.reason
    assert len(article.blocks) == 4 and article.blocks[0].text.startswith("Paragraph 0: The two ministers")
    assert not [c for t in (article.title, *(b.text for b in article.blocks)) for c in controls(t)]
