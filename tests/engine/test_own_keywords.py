"""Keyword statistics of the shared corpus alone: a server's own articles are indexed apart
(``own_fts``), move when the shared corpus takes them or gives them up, are found for their
server by words only they hold, and are scored exactly as FTS5 scores shared passages."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from foreign_desk.index.article import Article, Block
from foreign_desk.index.engine import Engine
from foreign_desk.index.models import SHARED, Filters, Scope
from foreign_desk.index.sqlite import in_statements
from foreign_desk.index.store import db, own_keywords
from foreign_desk.index.store.schema import MIGRATIONS, OWN_SLOT

from tests.engine.test_indexing import ASEAN, MERCOSUR, write_jsonl
from tests.fake_embedder import FakeEmbedder

A, B = 111, 222
TEXTS = [
    ("Jakarta", "Jokowi met the Japan minister in Jakarta on Monday, and Japan agreed."),
    ("Tokyo", "Japan and NATO agree on closer ties; NATO welcomes Japan."),
    ("Pretoria", "South Africa hosts the summit in Pretoria next week."),
    ("Sudan", "Talks on Sudan resume in Jeddah with Saudi and American mediators."),
    ("Jakarta floods", "Floods in Jakarta displaced thousands on Monday."),
]


def keyword_partition(data: Path) -> tuple[dict[tuple[str, int], int], ...]:
    """(term, documents) -> occurrences of each keyword index, and of an index built afresh from
    the passages each should hold (``passages.unshared``): equal when the partition is right."""
    with sqlite3.connect(data / db.DB_NAME) as conn:
        out = []
        for table, unshared in (("passages_fts", 0), ("own_fts", 1)):
            fresh = f"fresh_{unshared}"
            conn.execute(
                f"CREATE VIRTUAL TABLE temp.{fresh} USING fts5(context, text, "
                "tokenize='unicode61 remove_diacritics 2')"
            )
            conn.execute(
                f"INSERT INTO temp.{fresh}(rowid, context, text) "
                "SELECT id, context, text FROM passages WHERE unshared = ?",
                (unshared,),
            )
            for name, schema in ((table, "main"), (fresh, "temp")):
                conn.execute(f"CREATE VIRTUAL TABLE temp.v_{name} USING fts5vocab({schema}, {name}, 'row')")
                out.append(
                    {(t, d): c for t, d, c in conn.execute(f"SELECT term, doc, cnt FROM temp.v_{name}")}
                )
        return tuple(out)


def server_index(data: Path) -> tuple[set[tuple[str, int, str, int]], ...]:
    """The instances (term, rowid, column, offset) ``own_guild_fts`` holds, and those of an index
    built afresh from who owns what now (each server's unshared passages in its slot's range):
    equal when the rows followed every grant, revocation, move and deletion."""
    with sqlite3.connect(data / db.DB_NAME) as conn:
        conn.execute(
            "CREATE VIRTUAL TABLE temp.fresh_guild USING fts5(context, text, content='', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        conn.execute(
            "INSERT INTO temp.fresh_guild(rowid, context, text) SELECT g.slot * ? + p.id, p.context, p.text "
            "FROM own_guilds g JOIN article_scopes s ON s.guild_id = g.guild_id "
            "JOIN articles a ON a.uid = s.uid JOIN passages p ON p.article_id = a.id WHERE p.unshared = 1",
            (OWN_SLOT,),
        )
        out = []
        for name, schema in (("own_guild_fts", "main"), ("fresh_guild", "temp")):
            conn.execute(f"CREATE VIRTUAL TABLE temp.i_{name} USING fts5vocab({schema}, {name}, 'instance')")
            out.append(set(conn.execute(f"SELECT term, doc, col, offset FROM temp.i_{name}")))
        return tuple(out)


async def titles(engine: Engine, question: str, scope: Scope) -> list[str]:
    return [r.article.title for r in (await engine.ask(question, k=5, scope=scope)).results]


async def test_own_articles_are_indexed_apart_and_move_with_the_shared_corpus(
    make_settings, tmp_path: Path
) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    write_jsonl(folder / "wire.jsonl", ASEAN, MERCOSUR)
    data = tmp_path / "data"
    async with await Engine.open(make_settings(data), embedder=FakeEmbedder()) as engine:
        await engine.index([folder])
        uid = next(a.id for a in await engine.latest(10) if a.title == MERCOSUR["title"])
        shared, fresh_shared, own, fresh_own = keyword_partition(data)
        assert shared == fresh_shared and ("mercosur", 1) in shared and own == fresh_own == {}

        await engine.store.scopes.grant([(uid, A)])
        await engine.store.scopes.revoke(0, [uid])  # now server A's own only
        shared, fresh_shared, own, fresh_own = keyword_partition(data)
        assert (shared, own) == (fresh_shared, fresh_own)
        assert ("mercosur", 1) in own and not any(term == "mercosur" for term, _ in shared)
        stored, fresh = server_index(data)
        assert stored == fresh and any(term == "mercosur" for term, *_ in stored)
        await engine.store.scopes.grant([(uid, B)])  # B takes it too, then gives it up
        both, fresh = server_index(data)
        assert both == fresh and len({doc // OWN_SLOT for _, doc, *_ in both}) == 2
        await engine.store.scopes.revoke(B, [uid])
        assert server_index(data) == (stored, stored)
        question = "Montevideo Mercosur"  # words only the moved article holds
        assert (await titles(engine, question, Scope(A)))[0] == MERCOSUR["title"]
        assert MERCOSUR["title"] not in await titles(engine, question, SHARED)

        await engine.store.scopes.grant([(uid, None)])  # the shared corpus takes it back
        shared, fresh_shared, own, fresh_own = keyword_partition(data)
        assert shared == fresh_shared and ("mercosur", 1) in shared and own == fresh_own == {}
        assert server_index(data) == (set(), set())

        await engine.store.scopes.revoke(0, [uid])  # A's own again; then A is forgotten
        assert server_index(data) == (stored, stored)
        assert await engine.forget(A) == 1
        for n in range(3):  # new generations until the removed rows are collected
            write_jsonl(folder / "wire.jsonl", {**ASEAN, "text": ASEAN["text"] + f" Update {n}."})
            await engine.index([folder])
        shared, fresh_shared, own, fresh_own = keyword_partition(data)
        assert shared == fresh_shared and own == fresh_own == {} and any(t == "vientiane" for t, _ in shared)
        assert server_index(data) == (set(), set())


async def test_the_shared_corpus_giving_up_an_article_stops_counting_its_words(
    make_settings, tmp_path: Path
) -> None:
    """Word counts are remembered until who-sees-what changes, not only until the next
    generation: once the shared corpus gives an article up, its words count for nothing there."""
    folder = tmp_path / "news"
    folder.mkdir()
    write_jsonl(folder / "wire.jsonl", ASEAN, MERCOSUR)
    question, words = "Montevideo Mercosur", ["mercosur", "montevideo"]
    async with await Engine.open(make_settings(tmp_path / "data"), embedder=FakeEmbedder()) as engine:
        await engine.index([folder])
        uid = next(a.id for a in await engine.latest(10) if a.title == MERCOSUR["title"])
        snapshot = await engine.snapshot()
        assert snapshot is not None
        with engine.searcher.reads.reading() as read:
            assert read.doc_freqs(words, snapshot.generation) == {"mercosur": 1, "montevideo": 1}
        await engine.store.scopes.grant([(uid, A)])
        await engine.store.scopes.revoke(0, [uid])  # server A's own only; no new generation
        assert await engine.snapshot() is snapshot
        with engine.searcher.reads.reading() as read:
            assert read.doc_freqs(words, snapshot.generation) == {}
        assert MERCOSUR["title"] not in await titles(engine, question, SHARED)
        assert (await titles(engine, question, Scope(A)))[0] == MERCOSUR["title"]


@pytest.mark.parametrize("copies", [1, 200], ids=["five", "past-one-in-chunk"])
def test_own_passages_are_scored_as_fts5_scores_shared_ones(copies: int) -> None:
    """The same rows in both indexes: the own scoring equals ``bm25()`` on the shared one (also
    for more passages than one ``IN`` list binds)."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE passages (id INTEGER PRIMARY KEY, context TEXT, text TEXT)")
    for table in ("passages_fts", "own_fts"):
        conn.execute(
            f"CREATE VIRTUAL TABLE {table} USING fts5(context, text, content='passages', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
    conn.execute("CREATE VIRTUAL TABLE own_fts_instance USING fts5vocab(own_fts, 'instance')")
    conn.execute("CREATE VIRTUAL TABLE passages_vocab USING fts5vocab(passages_fts, 'row')")
    rows = [(i + 1, c, t) for i, (c, t) in enumerate(TEXTS * copies)]
    conn.executemany("INSERT INTO passages VALUES (?, ?, ?)", rows)
    for table in ("passages_fts", "own_fts"):
        conn.executemany(f"INSERT INTO {table}(rowid, context, text) VALUES (?, ?, ?)", rows)
    conn.commit()  # FTS5 writes its row count and lengths at commit

    def rows_in(sql: str, keys, params: dict) -> list:  # type: ignore[no-untyped-def]
        return [r for s, bound in in_statements(sql, keys, params) for r in conn.execute(s, bound)]

    terms, weights = ["japan", "jakarta", "monday"], (0.5, 1.0)
    match = " OR ".join(f'"{t}"' for t in terms)
    expected = conn.execute(
        "SELECT rowid, -bm25(passages_fts, 0.5, 1.0) FROM passages_fts WHERE passages_fts MATCH ?", (match,)
    ).fetchall()
    doc_freqs = dict(conn.execute("SELECT term, doc FROM passages_vocab WHERE term IN (?, ?, ?)", terms))
    got, held = own_keywords.scored(conn, rows_in, [r[0] for r in rows], terms, doc_freqs, weights)
    assert dict(got) == pytest.approx(dict(expected), rel=1e-12) and len(got) == 3 * copies
    assert held == set(terms) and min(score for _, score in got) > 1e-3  # real idfs, not the floor


async def test_an_article_nobody_may_see_is_shown_to_nobody(make_settings, tmp_path: Path) -> None:
    """Between a server forgetting its last article and that article leaving the index, it has
    no scope at all: no search shows it, though it is the nearest passage in meaning."""
    folder = tmp_path / "news"
    folder.mkdir()
    write_jsonl(folder / "wire.jsonl", ASEAN, MERCOSUR)
    async with await Engine.open(make_settings(tmp_path / "data"), embedder=FakeEmbedder()) as engine:
        await engine.index([folder])
        uid = next(a.id for a in await engine.latest(10) if a.title == MERCOSUR["title"])
        question = "Uni Eropa dan Mercosur tandatangani perjanjian dagang di Montevideo"
        assert (await titles(engine, question, Scope(A)))[0] == MERCOSUR["title"]
        await engine.store.scopes.revoke(0, [uid])
        for scope in (SHARED, Scope(A)):
            assert MERCOSUR["title"] not in await titles(engine, question, scope)


async def test_a_name_only_the_newest_own_article_holds_is_scored_past_the_cap(
    make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More own passages hold the question's common word than a search scores: the one passage
    that also holds its rare name is still among those scored (before, the oldest matches were)."""
    monkeypatch.setattr(own_keywords, "OWN_MATCHES_MAX", 2)
    ferries = [
        {**ASEAN, "title": f"Ferry timetable {n}", "url": f"https://news.example/ferry-{n}",
         "text": f"The harbour ferry runs every {n + 2} hours from the old pier, the port said."}
        for n in range(3)
    ]  # fmt: skip
    newest = {**ferries[0], "title": "Ferry to Zaporizhzhia", "url": "https://news.example/ferry-new",
              "text": "A ferry now links the river port with Zaporizhzhia, officials said."}  # fmt: skip
    folder = tmp_path / "news"
    folder.mkdir()
    write_jsonl(folder / "wire.jsonl", ASEAN, *ferries, newest)
    data = tmp_path / "data"
    async with await Engine.open(make_settings(data), embedder=FakeEmbedder()) as engine:
        await engine.index([folder])
        own = [a.id for a in await engine.latest(10) if a.title.startswith("Ferry")]
        await engine.store.scopes.grant([(uid, A) for uid in own])
        await engine.store.scopes.revoke(0, own)
        gen = (await engine.stats()).generation
    with sqlite3.connect(data / db.DB_NAME) as conn:
        ids = dict(conn.execute("SELECT a.title, p.id FROM passages p JOIN articles a ON a.id = article_id"))
        found = own_keywords.own_matches(conn, ["ferry", "zaporizhzhia"], gen, Filters(), Scope(A))
    assert len(found) == 2 and ids["Ferry to Zaporizhzhia"] in found
    assert ids["Ferry to Zaporizhzhia"] == max(ids[a["title"]] for a in [*ferries, newest])  # the newest


def own_article(title: str, text: str) -> Article:
    return Article(title, (Block(text),), url=f"https://own.example/{title.replace(' ', '-')}")


def scored_for_a(data: Path, gen: int) -> list[str]:
    """The titles of server A's passages ``own_matches`` chooses for "ferry Zaporizhzhia"."""
    with sqlite3.connect(data / db.DB_NAME) as conn:
        ids = own_keywords.own_matches(conn, ["ferry", "zaporizhzhia"], gen, Filters(), Scope(A))
        titles = conn.execute(
            "SELECT a.title FROM passages p JOIN articles a ON a.id = p.article_id "
            f"WHERE p.id IN ({','.join('?' * len(ids))})",
            ids,
        )
        return sorted(t for (t,) in titles)


async def test_other_servers_articles_leave_which_own_passages_are_scored_as_they_were(
    make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the cap, the terms fewest of A's own passages hold come first: B's articles holding A's
    rare name leave A's passage with it among those scored (before, every server's were counted,
    and B's six made the name look commoner than A's "ferry")."""
    monkeypatch.setattr(own_keywords, "OWN_MATCHES_MAX", 2)
    plant = own_article("Zaporizhzhia plant", "The Zaporizhzhia plant was inspected by envoys.")
    ferries = [own_article(f"Ferry {n}", f"The harbour ferry runs every {n + 2} hours.") for n in range(3)]
    theirs = [own_article(f"News {n}", f"Zaporizhzhia news item {n}.") for n in range(6)]
    data = tmp_path / "data"
    scored = []
    async with await Engine.open(make_settings(data), embedder=FakeEmbedder()) as engine:
        for articles, server in (([plant, *ferries], A), (theirs, B)):
            await engine.add_articles(articles, scopes={x.id: [server] for x in articles})
            scored.append(scored_for_a(data, await engine.generation()))
    assert scored[0] == scored[1] == ["Ferry 2", "Zaporizhzhia plant"]


def own_store(others: int) -> sqlite3.Connection:
    """The store's schema in memory: ``others`` passages of server B's own, then 3 of A's, all
    holding "ferry"."""
    conn = sqlite3.connect(":memory:")
    for _, script in MIGRATIONS:
        conn.executescript(script)
    owners = [B] * others + [A] * 3
    for i, guild in enumerate(owners, start=1):
        conn.execute("INSERT INTO article_scopes VALUES (?, ?, ?)", (f"u{i}", guild, i))
        conn.execute(
            "INSERT INTO articles(id, uid, key, title, content_hash, added_at, gen_added) "
            "VALUES (?, ?, ?, ?, '', '', 1)",
            (i, f"u{i}", f"k{i}", f"t{i}"),
        )
        conn.execute(
            "INSERT INTO passages(id, article_id, ordinal, paragraphs, text, context, vector_key, gen_added) "
            "VALUES (?, ?, 0, '[1]', ?, '', ?, 1)",
            (i, i, f"The harbour ferry {i}", f"v{i}"),
        )
    conn.commit()
    return conn


def steps_of_own_matches(conn: sqlite3.Connection) -> int:
    """SQLite virtual machine steps ``own_matches`` takes for server A's "ferry": the work, not
    the clock."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    conn.set_progress_handler(count, 1)
    assert len(own_keywords.own_matches(conn, ["ferry"], 1, Filters(), Scope(A))) == 3
    conn.set_progress_handler(None, 1)
    return steps


def test_other_servers_matches_cost_a_servers_keyword_search_nothing() -> None:
    """With 50 servers of 2,000 own articles, a server's own keyword matches took ~1-4 s: every
    server's passages holding the word were joined and their scope checked; then each was one
    lookup in the server's own passage list (~7 steps each: ~10,500 for 1,500 of server B's).
    Now only A's rows of the word's postings are read: B's cost no step of their own (what is
    left, ~40 steps, is FTS5 reading a few more pages of the longer posting list)."""
    alone, among = steps_of_own_matches(own_store(0)), steps_of_own_matches(own_store(1_500))
    assert among - alone < 150


async def test_a_servers_replaced_article_leaves_its_keyword_index_with_the_generation(
    make_settings, tmp_path: Path
) -> None:
    """A reader pinned at the old generation still finds the old text's word, the new one the new
    text's; once the old rows are collected, the server's index holds the new passage alone."""
    data = tmp_path / "data"
    old, new = own_article("Port", "The old ferry pier closed."), own_article("Port", "A new bridge opened.")
    async with await Engine.open(make_settings(data), embedder=FakeEmbedder()) as engine:
        await engine.add_articles([old], scopes={old.id: [A]})
        first = await engine.generation()
        await engine.add_articles([new], scopes={new.id: [A]})
        second = await engine.generation()
        with sqlite3.connect(data / db.DB_NAME) as conn:
            holds = lambda term, gen: own_keywords.own_matches(conn, [term], gen, Filters(), Scope(A))  # noqa: E731
            found = [[term for term in ("ferry", "bridge") if holds(term, gen)] for gen in (first, second)]
        assert found == [["ferry"], ["bridge"]]
        for n in range(3):  # new generations until the replaced rows are collected
            await engine.add_articles([own_article(f"Other {n}", "Filler.")], scopes={})
    stored, fresh = server_index(data)
    terms = {term for term, *_ in stored}
    assert stored == fresh and "bridge" in terms and "ferry" not in terms


@pytest.mark.parametrize(("doc_freq", "rows"), [(0, 0), (5, 0), (10, 3), (3, 3)])
def test_a_term_held_by_more_passages_than_the_shared_corpus_has_the_floor_idf(
    doc_freq: int, rows: int
) -> None:
    """A server's own passages holding a word while the shared corpus is empty (or smaller) once
    stopped its keyword search with "math domain error"."""
    assert own_keywords.idf(doc_freq, rows) == 1e-6
