"""Past ``approximate_threshold`` the vector index is sized and trained on the shared corpus's
passages alone: a server's own articles, however many, leave what everyone else is shown as it
was (``repair.built``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from foreign_desk.index.article import Article, Block
from foreign_desk.index.engine import Engine
from foreign_desk.index.models import SHARED, Scope

from tests.fake_embedder import FakeEmbedder

B = 222
WORDS = (
    "treaty summit border trade navy sanctions election minister embassy refugees aid talks "
    "ceasefire tariff pipeline drills envoy court vote protest harbour drought grain loan"
).split()


def words(n: int) -> list[str]:
    return [WORDS[(n * k + k * k) % len(WORDS)] for k in range(1, 13)]


def article(n: int, prefix: str) -> Article:
    return Article(f"{prefix} {n}", (Block(" ".join(words(n)) + "."),), url=f"https://{prefix}.example/{n}")


QUESTIONS = [" ".join(words(n)[2:6]) for n in (1, 7, 19, 33, 45)]


async def shown(engine: Engine, question: str, scope: Scope) -> list[tuple[str, float]]:
    return [(r.article.title, r.score) for r in (await engine.ask(question, k=5, scope=scope)).results]


async def test_a_servers_own_articles_do_not_retrain_the_shared_approximate_index(
    make_settings, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "data")
    index = replace(settings.index, approximate_threshold=40, nprobe=1)
    settings = replace(settings, index=index, search=replace(settings.search, none_margin=-100.0))
    async with await Engine.open(settings, embedder=FakeEmbedder()) as engine:
        await engine.add_articles([article(n, "shared") for n in range(60)])
        assert (await engine.stats()).index_type == "ivf"
        before = [await shown(engine, q, scope) for q in QUESTIONS for scope in (SHARED, Scope(111))]
        own = [article(n, "own") for n in range(300)]  # five times the shared corpus
        await engine.add_articles(own, scopes={a.id: [B] for a in own})
        assert (await engine.stats()).passages == 360
        assert [await shown(engine, q, scope) for q in QUESTIONS for scope in (SHARED, Scope(111))] == before
        assert all(before)
        theirs = [await shown(engine, q, Scope(B)) for q in QUESTIONS]
        assert any(title.startswith("own") for answer in theirs for title, _ in answer)
