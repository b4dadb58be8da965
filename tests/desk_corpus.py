"""A small corpus with web addresses, three outlets and both languages: one story told by an
English and an Indonesian outlet, and three other stories (Discord tests, same-story coverage).

The texts are the test stories of ``tests/feeds/news.py`` (written for the tests, no publisher's
text) plus an Indonesian report of the patrol story written here; the addresses are on
``.example`` domains. ``build`` indexes it; the Discord tests' ``desk_data_dir`` does so once
per session.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from foreign_desk.index.config import load_settings
from foreign_desk.index.embed import Embedder
from foreign_desk.index.engine import Engine

from tests.feeds.news import GAZA, PATROL, SUDAN, WIRE

PATROL_URL = "https://guardian.example/world/2024/mar/05/indonesia-australia-arafura-sea-patrols"
PATROL_ID_URL = (
    "https://antara.example/berita/4012388/indonesia-dan-australia-sepakati-patroli-bersama-di-laut-arafura"
)
PATROL_ID_TITLE = "Indonesia dan Australia sepakati patroli laut bersama di Laut Arafura"
PATROL_ID_TEXT = (
    "Darwin (ANTARA) - Indonesia dan Australia akan memulai patroli angkatan laut bersama di Laut Arafura "
    "bulan depan, kata menteri pertahanan kedua negara di Darwin pada Selasa, untuk menekan penangkapan ikan "
    "ilegal dan penyelundupan manusia.\n\n"
    "Dalam perjanjian itu, kapal patroli kedua angkatan laut akan berbagi data radar dan mengoordinasikan "
    "operasi pemeriksaan kapal di sepanjang batas maritim kedua negara."
)


def _article(story: Any, url: str, source: str, language: str) -> dict[str, Any]:
    return {
        "title": story.title,
        "url": url,
        "source": source,
        "published": story.published[:10],
        "language": language,
        "text": "\n\n".join(story.paragraphs),
    }


ARTICLES = [
    _article(PATROL, PATROL_URL, "The Guardian", "en"),
    {
        "title": PATROL_ID_TITLE,
        "url": PATROL_ID_URL,
        "source": "Antara",
        "published": "2024-03-05",
        "language": "id",
        "text": PATROL_ID_TEXT,
    },
    _article(SUDAN, "https://antara.example" + SUDAN.path, "Antara", "id"),
    _article(GAZA, "https://antara.example" + GAZA.path, "Antara", "id"),
    _article(WIRE, "https://wire.example" + WIRE.path, "Foreign Wire", "en"),
]


async def build(data_dir: Path, embedder: Embedder) -> Path:
    """Index the corpus into ``data_dir``; returns it."""
    corpus = data_dir.parent / "desk.jsonl"
    corpus.parent.mkdir(parents=True, exist_ok=True)
    corpus.write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in ARTICLES) + "\n", encoding="utf-8")
    settings = load_settings(None, environ={}, data_dir=str(data_dir))
    async with await Engine.open(settings, embedder=embedder) as engine:
        await engine.index([corpus])
    return data_dir
