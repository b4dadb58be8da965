"""Embedding stays off the event loop: while a full reindex is inside the model, the gateway
heartbeat goes on and other users' /ask are acknowledged and answered.

The reindex is held inside the model (a gate in front of the embedder) until the bot has been
seen doing both, so the test proves it by events, not by timing. How long the loop stalls
and how late heartbeats and acknowledgements come are figures: ``python -m bench.discord_stall``
prints them (target: loop stalls under 100 ms).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bench.discord_stall import QUESTION
from tests.discord_standin import DiscordStandin, StandinConfig
from tests.gated import GatedEmbedder

from .conftest import StartBot, embed_of, write_jsonl

HEARTBEAT_S = 0.25
TOPICS = [
    ("ASEAN", "Southeast Asian foreign ministers met in Vientiane to discuss the conflict in Myanmar"),
    ("Gaza", "Indonesia sent a second shipment of humanitarian aid to Gaza through Egypt"),
    ("Ukraine", "European leaders pledged air defence systems and artillery shells to Ukraine"),
    ("Taiwan", "The United States and Japan held talks on stability across the Taiwan Strait"),
]


@pytest.fixture
def standin_config() -> StandinConfig:
    return StandinConfig(heartbeat_interval_ms=int(HEARTBEAT_S * 1000))


def corpus(tmp_path: Path) -> Path:
    articles = []
    for n, (topic, lede) in enumerate(TOPICS, 1):
        body = [
            f"{lede} on Monday, officials said. The meeting lasted several hours and ended with a joint "
            "statement.",
            f"Diplomats said the talks on {topic} would continue next month. Observers called the outcome "
            "modest but welcomed the commitment to keep talking. Several delegations asked for a follow-up.",
        ]
        articles.append(
            {
                "title": f"Talks on {topic} continue",
                "text": "\n\n".join(body),
                "url": f"https://example.org/{n}",
                "source": "Stall Wire",
                "published": f"2024-05-{n:02d}",
                "language": "en",
            }
        )
    return write_jsonl(tmp_path / "stall" / "news.jsonl", articles)


async def test_heartbeats_and_answers_continue_while_a_reindex_is_in_the_model(
    standin: DiscordStandin, start_bot: StartBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.WARNING)
    options = {"reindex_paths": [str(corpus(tmp_path))], "operator_guild_ids": [standin.guild.id]}
    async with asyncio.timeout(120), start_bot(**options) as bot:
        await standin.wait_for_heartbeats(2)
        gated = GatedEmbedder(bot.engine.embedder)
        bot.engine.embedder = gated  # indexing runs use it; questions keep the real one
        reindex = await standin.send_slash_command("operator reindex", {"full": True}, user=standin.owner)
        await standin.wait_until(gated.entered.is_set, timeout=60, what="the reindex in the model")
        beats = len(standin.current_connection_heartbeats())
        ask = await standin.send_slash_command("ask", {"question": QUESTION}, user=standin.user)
        answer = await ask.wait_for_reply(lambda m: bool(m.embeds), timeout=30)
        await standin.wait_for_heartbeats(beats + 2, timeout=30)
        held = bot.engine.indexing and not any(m.content.startswith("✅") for m in reindex.replies)
        gated.gate.set()
        result = await reindex.wait_for_reply(lambda m: m.content.startswith(("✅", "❌")), timeout=60)

    assert held  # all of the above happened while the reindex waited inside the model
    assert ask.deferred and embed_of(answer)["title"] == QUESTION
    assert result.content.startswith("✅ Reindex finished"), result.content
    assert len(standin.gateway.connections) == 1  # never dropped or reconnected
    assert not [r for r in caplog.records if "heartbeat blocked" in r.getMessage()]
