"""The answer cache: bounded, keyed by version (generation, scopes) and every search parameter."""

from __future__ import annotations

from foreign_desk.index.answer_cache import AnswerCache, as_cached
from foreign_desk.index.models import Answer, Filters


def answer(text: str) -> Answer:
    return Answer(question=text, results=(), took_ms=40.0, timings={"embed": 30.0})


def test_a_repeated_question_is_answered_from_the_cache() -> None:
    cache = AnswerCache()
    key = ("what did NATO and Japan agree on?", 5, Filters(), 2, 0)
    assert cache.get((3, 0), key) is None
    cache.put((3, 0), key, answer("a"))
    assert cache.get((3, 0), key) == answer("a")
    assert (cache.hits, cache.misses) == (1, 1)


def test_other_parameters_are_other_answers() -> None:
    cache = AnswerCache()
    cache.put((1, 0), ("q", 5, Filters(), 2, 0), answer("all"))
    assert cache.get((1, 0), ("q", 5, Filters(language="id"), 2, 0)) is None
    assert cache.get((1, 0), ("q", 5, Filters(), 2, 5)) is None
    assert cache.get((1, 0), ("q ", 5, Filters(), 2, 0)) is None


def test_a_new_generation_invalidates_every_older_answer() -> None:
    cache = AnswerCache()
    cache.put((1, 0), "q", answer("old"))
    assert cache.get((2, 0), "q") is None  # the next generation: computed afresh
    assert len(cache) == 0
    cache.put((1, 0), "q", answer("late"))  # a search that started on generation 1 finishes late
    assert cache.get((1, 0), "q") is None and cache.get((2, 0), "q") is None
    cache.put((2, 0), "q", answer("before"))
    assert cache.get((2, 1), "q") is None  # a server was granted or denied an article


def test_the_least_recently_used_answer_goes_first() -> None:
    cache = AnswerCache(max_entries=2)
    cache.put((1, 0), "a", answer("a"))
    cache.put((1, 0), "b", answer("b"))
    assert cache.get((1, 0), "a") is not None  # "a" is now the most recent
    cache.put((1, 0), "c", answer("c"))
    assert cache.get((1, 0), "b") is None
    assert cache.get((1, 0), "a") is not None and cache.get((1, 0), "c") is not None


def test_a_served_answer_reports_its_own_time() -> None:
    served = as_cached(answer("a"), 0.04)
    assert served.took_ms == 0.0 and served.timings == {"cache": 0.04}
    assert served.question == "a"


async def test_the_engine_answers_a_repeat_from_the_cache_until_a_new_generation(
    sample_engine, tmp_path
) -> None:
    from tests.engine.test_crash import ASEAN_Q
    from tests.engine.test_indexing import ASEAN, write_jsonl

    first = await sample_engine.ask(ASEAN_Q, k=10)
    again = await sample_engine.ask(ASEAN_Q, k=10)
    assert again.results == first.results and set(again.timings) == {"cache"}
    assert sample_engine.answers.hits == 1
    assert not any(r.article.title == ASEAN["title"] for r in first.results)

    folder = tmp_path / "news"
    folder.mkdir()
    write_jsonl(folder / "wire.jsonl", ASEAN)
    await sample_engine.index([folder])  # a new generation
    fresh = await sample_engine.ask(ASEAN_Q, k=10)
    assert "cache" not in fresh.timings
    assert any(r.article.title == ASEAN["title"] for r in fresh.results)


async def test_a_question_makes_no_statement_on_the_event_loops_connection(sample_engine) -> None:
    """The version the cache is keyed by is read with the search, on the question thread: a
    statement on the store's aiosqlite connection would be three more hops between threads."""
    statements: list[str] = []
    await sample_engine.store.conn.set_trace_callback(statements.append)
    try:
        assert (await sample_engine.ask("what did NATO and Japan agree on?")).results
        assert (await sample_engine.ask("what did NATO and Japan agree on?")).timings.keys() == {"cache"}
    finally:
        await sample_engine.store.conn.set_trace_callback(None)
    assert statements == []


async def test_a_generation_another_process_published_answers_the_next_question(
    tmp_path, make_settings
) -> None:
    from tests.engine.test_indexing import MERCOSUR, write_jsonl, writer_and_reader

    news = tmp_path / "news"
    async with writer_and_reader(news, make_settings(tmp_path / "data")) as (writer, reader):
        assert not (await reader.ask("Mercosur Montevideo")).results
        write_jsonl(news / "mercosur.jsonl", MERCOSUR)
        await writer.index([news])  # generation 2, while the reader holds generation 1
        titles = [r.article.title for r in (await reader.ask("Mercosur Montevideo")).results]
    assert titles[0] == MERCOSUR["title"]
