"""Each indexing stage on its own (plan → embed → build; stage and publish through a run), with
the fake embedder: no model, so every run is milliseconds and every model call is counted."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import faiss
import numpy as np
import pytest
from foreign_desk.index.article import Article, Block
from foreign_desk.index.config import IndexSettings, Settings
from foreign_desk.index.engine import Engine
from foreign_desk.index.indexing import build, indexer, stream
from foreign_desk.index.indexing import embed as embedding
from foreign_desk.index.indexing import prepare as preparing
from foreign_desk.index.indexing.build import parts, still_fits
from foreign_desk.index.indexing.embed import LineVectors, Source, embed_passages, passage_key
from foreign_desk.index.indexing.plan import Planner, plan
from foreign_desk.index.indexing.prepare import Prepared, passage_sentences, prepare
from foreign_desk.index.progress import IndexProgress
from foreign_desk.index.store import Store, repair
from foreign_desk.index.store.vectors import FLAT, IVF, VectorIndex
from foreign_desk.index.store.writer import ExistingArticle, StoreWriter

from tests.fake_embedder import FakeEmbedder

T = TypeVar("T")

BODY = "The ministers met in Jakarta and agreed to hold joint patrols in the disputed waters this year."


def prepared(name: str, text: str = BODY, path: str | None = None) -> Prepared:
    article = Article(f"About {name}", (Block(text),), url=f"https://n.example/{name}", path=path)
    result = prepare(article, Settings())
    assert isinstance(result, Prepared)
    return result


def test_content_hash_is_unchanged() -> None:
    """Stored hashes were made by this recipe: a different one re-embeds every user's store."""
    article = Article(
        "Menlu bertemu mitra Jepang",
        (Block("Lanjutan", "heading"), Block("The ministers met in Jakarta — and agreed “to patrol”.")),
        source="Antara", url="https://n.example/a", published="2024-01-02", language="id", author="Rina",
        path="/x/a.jsonl", locator="line 3",
    )  # fmt: skip
    result = prepare(article, Settings())
    assert isinstance(result, Prepared)
    assert result.content_hash == "f1a943559c6e4b5c0b46475a2b597f5d3347fd09"


def existing(row: int, item: Prepared, *, content_hash: str | None = None) -> ExistingArticle:
    a = item.article
    return ExistingArticle(row, a.id, a.key, a.path, content_hash or item.content_hash)


def test_plan_stages_what_is_new_or_changed_and_keeps_the_rest() -> None:
    same, changed, new = prepared("same"), prepared("changed"), prepared("new")
    live = {
        same.article.key: existing(1, same),
        changed.article.key: existing(2, changed, content_hash="old"),
    }
    todo = plan([same, changed, new], live, full=False, scope=[], keep_paths=set())
    assert [p.article.key for p in todo.to_stage] == [changed.article.key, new.article.key]
    assert (todo.added_ids, todo.updated_ids, todo.replaced) == ([new.article.id], [changed.article.id], [2])
    assert (todo.unchanged, todo.gone, todo.untouched) == (1, [], [1])
    everything = plan([same, changed, new], live, full=True, scope=[], keep_paths=set())
    assert everything.updated_ids == [same.article.id, changed.article.id] and everything.untouched == []


def test_plan_drops_only_articles_from_files_it_read_without_problems(tmp_path: Path) -> None:
    """Kept: an article of a file with problems, and of a folder that could not be listed."""
    inside, troubled, folder = str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), str(tmp_path / "2024")
    gone, kept, elsewhere = prepared("gone", path=inside), prepared("kept", path=troubled), prepared("x")
    unlisted = prepared("unlisted", path=str(tmp_path / "2024" / "may" / "c.txt"))
    beside = prepared("beside", path=str(tmp_path / "2024-old.txt"))
    articles = (gone, kept, elsewhere, unlisted, beside)
    live = {p.article.key: existing(n, p) for n, p in enumerate(articles, 1)}
    todo = plan([], live, full=False, scope=[tmp_path], keep_paths={troubled, folder})
    assert [old.uid for old in todo.gone] == [gone.article.id, beside.article.id]
    assert todo.untouched == [2, 3, 4] and todo.changes


def test_without_prune_only_an_article_taken_out_of_a_file_read_goes(tmp_path: Path) -> None:
    """A file read whole no longer holds it (a JSON Lines row deleted, a url added): nothing is
    missing, so it goes; one of a deleted file waits for ``prune``. It waited too, and every row
    after a deleted one was then listed twice."""
    wire, deleted = str(tmp_path / "wire.jsonl"), str(tmp_path / "old.txt")
    still, moved, taken_out = (prepared(n, path=wire) for n in ("still", "moved", "taken out"))
    lost = prepared("lost", path=deleted)
    live = {p.article.key: existing(n, p) for n, p in enumerate((still, taken_out, lost), 1)}
    todo = plan([still, moved], live, full=False, scope=[tmp_path], keep_paths=set(), prune=False)
    assert ([old.uid for old in todo.gone], todo.kept_gone) == ([taken_out.article.id], 1)
    assert todo.untouched == [1, 3]
    pruned = plan([still, moved], live, full=False, scope=[tmp_path], keep_paths=set(), prune=True)
    assert [old.row for old in pruned.gone] == [2, 3] and not pruned.kept_gone


def test_a_plan_made_one_article_at_a_time_is_the_plan_made_at_once(tmp_path: Path) -> None:
    """A run judges each article as it reads it and keeps none: ``Planner.add`` says whether to
    stage it, ``finish`` what is gone; the same plan as from every article at once."""
    inside = str(tmp_path / "a.txt")
    same, changed, new, gone = (
        prepared("same"),
        prepared("changed"),
        prepared("new"),
        prepared("g", path=inside),
    )
    live = {
        same.article.key: existing(1, same),
        changed.article.key: existing(2, changed, content_hash="old"),
        gone.article.key: existing(3, gone),
    }
    for full in (False, True):
        planner = Planner(live, full=full)
        chosen = [item.article.key for item in (same, changed, new) if planner.add(item)]
        streamed = planner.finish(scope=[tmp_path], keep_paths=set())
        whole = plan([same, changed, new], live, full=full, scope=[tmp_path], keep_paths=set())
        assert chosen == [item.article.key for item in whole.to_stage] and streamed.to_stage == []
        assert streamed.staged == whole.staged == len(chosen)
        streamed.to_stage = whole.to_stage
        assert streamed == whole and [old.row for old in whole.gone] == [3]


async def offload(fn: Callable[[], T]) -> T:
    """The indexing thread's stand-in: ``fn`` on a worker thread."""
    return await asyncio.to_thread(fn)


async def test_a_passage_vector_is_made_of_its_lines_each_embedded_once(tmp_path: Path) -> None:
    """Issue 11's rule: the model sees each headline, section heading and sentence once (no
    second pass over the passage for its sentences); the passage vector is their normalized sum
    and the sentence vectors are kept for highlights and ranking."""
    fake = FakeEmbedder()
    fp = fake.fingerprint
    heads = ("Ministers meet\nTalks", "Ministers meet")  # a headline shared by two passages
    bodies = ("They met in Jakarta. They agreed on patrols.", "Patrols begin in May.")
    sources: dict[str, Source] = {
        passage_key(fp, c, t): (c, passage_sentences(t)) for c, t in zip(heads, bodies, strict=True)
    }
    sources[passage_key(fp, "Other story", "One line.")] = ("Other story", ("One line.",))
    calls: list[list[str]] = []
    batches: list[tuple[int, int]] = []

    def model(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return fake.embed_passages(texts)

    store = await Store.open(tmp_path / "data")
    try:
        async with StoreWriter.open(store) as writer:
            on_batch = lambda done, n: batches.append((len(done), n))  # noqa: E731
            made = await embed_passages(
                writer, sources, model, offload, batch=2, keep_sentences=True, on_batch=on_batch
            )
            assert made == 3 and len(calls) == 2  # one model call per batch
            seen = [t for texts in calls for t in texts]
            assert sorted(seen) == sorted(set(seen)) and "Ministers meet" in seen and len(seen) == 7
            assert batches == [(2, 2), (1, 1)]  # keys just done, per batch of two passages
            first = passage_key(fp, heads[0], bodies[0])
            lines = fake.embed_passages(
                ["Ministers meet", "Talks", "They met in Jakarta.", "They agreed on patrols."]
            )
            total = lines.sum(axis=0)
            vectors = await writer.vectors_of_keys([first], fake.dim)  # not held: read back
            assert np.allclose(vectors[0], total / np.linalg.norm(total), atol=1e-6)
            kept = await store.sentence_vectors([first], fake.dim)
            assert np.allclose(kept[first], lines[2:], atol=1e-3)  # float16 on disk
            assert await writer.cached_keys(sources, fake.dim) == set(sources)
    finally:
        await store.close()


async def test_the_next_group_is_embedded_while_one_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: the model (on a GPU, or its own thread) never waits for SQLite: while a group's
    vectors are being committed, the next group is already being embedded."""
    monkeypatch.setattr("foreign_desk.index.indexing.embed.COMMIT_PASSAGES", 1)  # a commit a batch
    fake = FakeEmbedder()
    sources: dict[str, Source] = {
        passage_key(fake.fingerprint, f"Story {n}", BODY): (f"Story {n}", (BODY,)) for n in range(3)
    }
    second_group = threading.Event()
    calls = 0

    def model(texts: list[str]) -> np.ndarray:
        nonlocal calls
        calls += 1
        if calls == 2:
            second_group.set()
        return fake.embed_passages(texts)

    store = await Store.open(tmp_path / "data")
    try:
        async with StoreWriter.open(store) as writer:
            put_batch, overlapped = writer.put_batch, list[bool]()

            async def slow_put_batch(*args: object) -> None:  # the first commit waits for the model
                if not overlapped:
                    overlapped.append(await asyncio.to_thread(second_group.wait, 10))
                await put_batch(*args)  # type: ignore[arg-type]

            writer.put_batch = slow_put_batch  # type: ignore[method-assign,assignment]
            made = await embed_passages(
                writer, sources, model, offload, batch=1, keep_sentences=True, on_batch=lambda *_: None
            )
            assert made == 3 and overlapped == [True]
            assert await writer.cached_keys(sources, fake.dim) == set(sources)
    finally:
        await store.close()


@pytest.mark.parametrize(("seconds", "commits"), [(3600.0, [4]), (0.0, [1, 1, 1, 1])])
async def test_a_runs_parts_share_a_commit_and_a_held_vector_is_not_made_again(
    seconds: float, commits: list[int], make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: a fast model's parts of a run (one article each here) go to the store together
    once a commit's worth has piled up, not in a transaction each, unless ``COMMIT_SECONDS``
    have passed since the last commit (a slow model's); a passage whose vector is made but not
    committed yet (the same story under another address) is not embedded again."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rows = [
        {"title": "Talks", "text": f"{BODY} Round {n}.", "url": f"https://n.example/{n}"} for n in range(4)
    ]
    rows.append(dict(rows[0], url="https://wire.example/0"))
    (corpus / "news.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    monkeypatch.setattr(indexer, "READ_BATCH", 1)
    monkeypatch.setattr(indexer, "block_size", lambda _e, _n: 1)
    monkeypatch.setattr(embedding, "COMMIT_SECONDS", seconds)
    made: list[int] = []
    put_batch = StoreWriter.put_batch

    async def counted(writer: StoreWriter, vectors, sentences) -> None:  # type: ignore[no-untyped-def]
        made.append(len(vectors))
        await put_batch(writer, vectors, sentences)

    monkeypatch.setattr(StoreWriter, "put_batch", counted)
    async with await Engine.open(make_settings(tmp_path / "data"), embedder=FakeEmbedder()) as engine:
        report = await engine.index([corpus])
        results = await engine.ask("joint patrols round 3")
    assert report.articles_added == 5 and report.passages_added == 5
    assert made == commits and report.passages_embedded == 4
    assert "Round 3." in results.results[0].text


def test_the_line_vectors_kept_are_the_most_recently_used() -> None:
    """A line used again is kept over older ones; a batch bigger than the capacity keeps its
    last lines; every kept line gives back the row it was put with."""
    kept = LineVectors(capacity=3)
    rows = np.arange(5 * 2, dtype=np.float32).reshape(5, 2)
    kept.put_new(["a", "b", "c"], rows[:3])
    found, again = kept.known(["x", "a"])  # "a" used again: "b" is now the oldest
    assert found == ["a"] and again.tolist() == [rows[0].tolist()]
    kept.put_new(["d"], rows[3:4])
    assert kept.known(["b", "c", "d", "a"])[0] == ["c", "d", "a"]
    kept.put_new(["e", "f", "g", "h"], np.arange(8, dtype=np.float32).reshape(4, 2))
    found, last = kept.known(["a", "e", "f", "g", "h"])
    assert found == ["f", "g", "h"] and last.tolist() == [[2, 3], [4, 5], [6, 7]]


def test_an_index_is_rebuilt_when_its_kind_no_longer_suits_the_corpus() -> None:
    settings = IndexSettings(approximate_threshold=1000)
    flat, ivf = VectorIndex.empty(4, 8), VectorIndex.empty(4, 8)
    assert flat.kind == FLAT and still_fits(flat, 1000, 0, settings)
    assert not still_fits(flat, 1001, 0, settings)
    ivf.kind = IVF  # only the kind matters to the rule
    assert still_fits(ivf, 900, 1200, settings)  # hovering below the threshold: kept
    assert not still_fits(ivf, 500, 1200, settings)  # half the threshold: back to exact
    assert not still_fits(ivf, 4801, 1200, settings)  # 4x its training size: retrained


@pytest.mark.parametrize("threshold", [100_000, 1_000])  # exact, IVF
def test_an_index_built_a_part_at_a_time_is_the_one_built_at_once(threshold: int) -> None:
    """The build reads vectors back from the store ``build.PART`` at a time: the index must be
    the one made of all of them at once, byte for byte (a part is a multiple of FAISS's blocks)."""
    n, dim = 2 * build.PART + 4_100, 16
    vecs = np.random.default_rng(0).standard_normal((n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = np.arange(1, n + 1, dtype=np.int64)
    whole = VectorIndex.build(dim, ids, vecs, approximate_threshold=threshold)
    parted = VectorIndex.sized(dim, n, approximate_threshold=threshold)
    picked = parted.training_rows(n)
    if picked is not None:
        parted.train(vecs[picked])
    assert [stop - start for start, stop in parts(n, build.PART)] == [build.PART, build.PART + 4_100]
    for start, stop in parts(n, build.PART):
        parted.add(ids[start:stop], vecs[start:stop])
    assert whole.kind == parted.kind == (FLAT if threshold > n else IVF)
    assert np.array_equal(faiss.serialize_index(whole.index), faiss.serialize_index(parted.index))


async def test_runs_read_vectors_back_in_parts_and_publish_the_same_files(
    make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No run holds its vectors: a rebuild and a patch read them back from the store a part at a
    time, and parts of two vectors give the same FAISS files as parts of thousands."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write(corpus, *(f"n{i}" for i in range(7)))
    files: dict[int, list[bytes]] = {}
    for part in (build.PART, 2):
        monkeypatch.setattr(build, "PART", part)
        data = tmp_path / f"data{part}"
        async with await Engine.open(make_settings(data), embedder=FakeEmbedder()) as engine:
            await engine.index([corpus])  # rebuilt
            write(corpus, *(f"new{i}" for i in range(5)))
            await engine.index([corpus])  # patched
        files[part] = [path.read_bytes() for path in sorted((data / "vectors").glob("gen-*.faiss"))]
        for path in corpus.glob("new*.jsonl"):
            path.unlink()
    assert len(files[2]) == 2 and files[2] == files[build.PART]
    assert [stop - start for start, stop in parts(7, 2)] == [2, 2, 3] and parts(0, 2) == []


@pytest.mark.parametrize("threshold", [100_000, 5])  # exact, IVF
async def test_a_repair_rebuilds_the_published_file_a_part_at_a_time(
    threshold: int, make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A damaged vector file is rebuilt from the stored vectors read ``PART`` at a time (never
    all at once), into the very file the indexing build published."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write(corpus, *(f"n{i}" for i in range(7)))
    settings = make_settings(tmp_path / "data")
    settings = dataclasses.replace(
        settings, index=dataclasses.replace(settings.index, approximate_threshold=threshold)
    )
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        await engine.index([corpus])
    monkeypatch.setattr(repair, "PART", 2)
    store = await Store.open(tmp_path / "data")
    try:
        gen = await store.generation()
        published = store.vectors_path(gen).read_bytes()
        rebuilt = await repair.rebuild(
            store, gen, FakeEmbedder().dim, approximate_threshold=threshold, nprobe=settings.index.nprobe
        )
    finally:
        await store.close()
    assert rebuilt.kind == (FLAT if threshold > 7 else IVF) and rebuilt.ntotal > 2
    assert faiss.serialize_index(rebuilt.index).tobytes() == published


def write(folder: Path, *names: str, text: str = BODY) -> None:
    for name in names:
        article = {"title": f"About {name}", "text": text, "url": f"https://n.example/{name}"}
        (folder / f"{name}.jsonl").write_text(json.dumps(article) + "\n", encoding="utf-8")


async def test_a_run_reports_which_articles_it_changed(make_settings, tmp_path: Path) -> None:
    fake, corpus = FakeEmbedder(), tmp_path / "corpus"
    corpus.mkdir()
    write(corpus, "one", "two")
    heard: list[tuple[int, list[str]]] = []
    async with await Engine.open(make_settings(), embedder=fake) as engine:

        async def listener(generation: int, ids: list[str]) -> None:
            heard.append((generation, ids))

        engine.on_ingest(listener)
        first = await engine.index([corpus])
        ids = {Article("", (), url=f"https://n.example/{n}").id: n for n in ("one", "two", "three")}
        assert sorted(ids[i] for i in first.added_ids) == ["one", "two"] and first.generation == 1
        embedded = len(fake.passages)
        write(corpus, "two", text=BODY + " A spokesman confirmed it.")
        (corpus / "one.jsonl").unlink()
        second = await engine.index([corpus], prune=True)
        assert [ids[i] for i in second.updated_ids] == ["two"]
        assert [ids[i] for i in second.removed_ids] == ["one"]
        assert second.added_ids == [] and len(fake.passages) > embedded
        third = Article("About three", (Block(BODY),), url="https://n.example/three")
        added = await engine.add_articles([third])
        assert added.changed_ids == [third.id] and heard == [(3, [third.id])]
        assert (await engine.add_articles([third])).changed_ids == [] and len(heard) == 1
        assert (await engine.indexed([third.key])) == {third.key: third.id}


async def test_staged_passages_keep_their_text_exactly_and_are_found_by_keywords(tmp_path: Path) -> None:
    """Passages are staged in one statement (as JSON); every text comes back as it went in, a
    backslash, quotes and a missing section heading included (a NUL no longer reaches it:
    ``text.strip_controls``), and the keyword index has them."""
    texts = [
        "Menteri luar negeri bertemu di Jakarta — “patroli” 😀.",
        r'A back\\slash "quoted" patrols here.',
        "Plain.",
    ]
    items = [prepared(f"n{i}", text) for i, text in enumerate(texts)]
    fp = FakeEmbedder().fingerprint
    store = await Store.open(tmp_path / "data")
    try:
        async with StoreWriter.open(store) as writer, writer.transaction():
            await writer.grant((item.article.id, None) for item in items)  # shared, as ``stage`` grants
            for item in items:
                keys = [passage_key(fp, c, p.text) for c, p in zip(item.contexts, item.passages, strict=True)]
                await writer.stage_article(
                    item.article, lede=item.lede, content_hash=item.content_hash, passages=item.passages,
                    contexts=item.contexts, vector_keys=keys,
                )  # fmt: skip
        async with store.conn.execute("SELECT text, section, paragraphs FROM passages ORDER BY id") as cur:
            rows = [tuple(r) for r in await cur.fetchall()]
        wanted = [(p.text, p.section, json.dumps(list(p.paragraphs))) for i in items for p in i.passages]
        assert rows == wanted
        assert any('\\slash "quoted"' in r[0] for r in rows)  # JSON's escapes undone
        found = "SELECT rowid FROM passages_fts WHERE passages_fts MATCH 'patroli'"
        async with store.conn.execute(found) as cur:
            assert [r[0] for r in await cur.fetchall()] == [1]
    finally:
        await store.close()


async def test_a_run_embeds_and_stages_articles_as_it_reads_them(
    make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run holds a batch of articles, not the corpus: with batches of one article (and one
    passage) it has staged articles before it has read every file, and publishes the same store and FAISS file
    (same rows, ids, vector keys; duplicates still skipped) as with batches of hundreds."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write(corpus, *(f"n{i}" for i in range(6)))
    (corpus / "z-dup.jsonl").write_text((corpus / "n0.jsonl").read_text(), encoding="utf-8")
    opened: list[Path] = []
    read_path = preparing.read_path

    def counted(path: Path):  # type: ignore[no-untyped-def]
        opened.append(path)
        return read_path(path)

    monkeypatch.setattr(preparing, "read_path", counted)
    stage = stream.stage
    results = {}
    for size in (stream.STAGE_BATCH, 1):
        monkeypatch.setattr(indexer, "READ_BATCH", size)
        monkeypatch.setattr(stream, "STAGE_BATCH", size)
        monkeypatch.setattr(
            indexer, "block_size", lambda _e, n, size=size: min(n, size)
        )  # passages per batch
        files_read: list[int] = []

        async def spy(*args, files_read=files_read, **kwargs):  # type: ignore[no-untyped-def]
            files_read.append(len(opened))
            return await stage(*args, **kwargs)

        monkeypatch.setattr(stream, "stage", spy)
        opened.clear()
        data, fake = tmp_path / f"data{size}", FakeEmbedder()
        async with await Engine.open(make_settings(data), embedder=fake) as engine:
            told: list[IndexProgress] = []
            report = await engine.index([corpus], progress=told.append)
        assert report.articles_added == report.articles_seen == 6 and len(opened) == 7
        embedded = [(p.done, p.total) for p in told if p.phase == "embedding"]
        assert embedded[-1] == (6, 6) and embedded == sorted(embedded)  # articles with every vector
        assert [p.reason for p in report.problems] == [
            f"same article as {corpus / 'n0.jsonl'} line 1 (skipped)"
        ]
        with sqlite3.connect(data / "foreign-desk.sqlite3") as db:
            rows = db.execute("SELECT id, article_id, text, vector_key FROM passages ORDER BY id").fetchall()
        faiss_files = [path.read_bytes() for path in sorted((data / "vectors").glob("gen-*.faiss"))]
        results[size] = (rows, faiss_files, fake.passages, report.passages_embedded)
        if size == 1:
            assert files_read[0] < 7 and len(files_read) == 6  # one batch staged per article
    assert results[1] == results[stream.STAGE_BATCH]
