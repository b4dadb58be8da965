"""Long jobs (a reindex, an ingest waiting for another writer) outlive the interaction token:
before it expires the status moves to a DM (or, where the user takes none from the bot, a
channel message), and the final report is shown there."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from foreign_desk.bot.discord.i18n import EN, texts
from foreign_desk.bot.discord.status import Handoff
from foreign_desk.index.store import WriterLock

from tests.discord_standin import DiscordStandin, StandinConfig
from tests.discord_standin.errors import Refusal
from tests.feeds.news import GAZA, page
from tests.fetch.fixture_server import FixtureServer

from .conftest import StartBot, assert_everything_quiet
from .test_admin import wires

TOKEN_S = 2.0


@pytest.fixture
def standin_config() -> StandinConfig:
    return StandinConfig(interaction_token_ttl=TOKEN_S)


async def test_a_reindex_outliving_the_token_reports_in_a_dm(
    standin: DiscordStandin, start_bot: StartBot, tmp_path: Path
):
    options = {
        "reindex_paths": [str(wires(tmp_path))],
        "interaction_token_s": TOKEN_S,
        "operator_guild_ids": [standin.guild.id],
    }
    async with asyncio.timeout(60), start_bot(**options, status_edit_interval_s=0.1) as bot:
        # Another writer holds the index: the reindex waits for it past the token's lifetime.
        async with WriterLock(bot.settings.data_path / "writer.lock").hold():
            ix = await standin.send_slash_command("operator reindex", user=standin.owner)
            dm = standin.world.dm_channel(standin.owner)
            moved = await standin.wait_for_bot_message(channel=dm, timeout=10)
            await standin.wait_until(lambda: standin.token_expired(ix), timeout=10, what="token expiry")
        done = await standin.wait_until(
            lambda: "✅" in moved.content and moved, timeout=45, what="the final report"
        )
    original = standin.message(ix.original_message_id)
    assert original.ephemeral and original.content.startswith("This reindex is taking a while")
    assert f"/channels/@me/{dm.id}/{moved.id}" in original.content
    assert standin.bot_messages(standin.general) == []  # the private report stays private
    header = f"Status of the reindex {standin.owner.mention} started"
    assert all(r["content"].startswith(header) for r in moved.revisions)
    assert "✅ Reindex finished" in done.content and "2 new" in done.content
    assert not ix.rejected  # nothing was sent to the interaction after its token expired
    assert_everything_quiet(standin)


@pytest.mark.parametrize("refused", ["sending", "opening"])
async def test_the_status_moves_to_the_channel_where_the_user_takes_no_dms(
    standin: DiscordStandin, start_bot: StartBot, tmp_path: Path, refused: str
):
    """Discord refuses a DM to a user who takes none with a 403 on sending it, or a 400 (50007)
    on opening it (discord-api-docs#1905): the 400 was taken for a failure that may pass, and the
    status stayed in the interaction, the final report shown nowhere once its token was gone."""
    dm = standin.world.dm_channel(standin.owner)
    path = f"/channels/{dm.id}/messages" if refused == "sending" else "/users/@me/channels"
    closed = standin.refusals.inject(
        lambda method, p: method == "POST" and p.endswith(path),
        403 if refused == "sending" else 400,
        50007,
        "Cannot send messages to this user",
        count=10,
    )
    options = {
        "reindex_paths": [str(wires(tmp_path))],
        "interaction_token_s": TOKEN_S,
        "operator_guild_ids": [standin.guild.id],
    }
    async with asyncio.timeout(60), start_bot(**options) as bot:
        async with WriterLock(bot.settings.data_path / "writer.lock").hold():
            ix = await standin.send_slash_command("operator reindex", user=standin.owner)
            moved = await standin.wait_for_bot_message(channel=standin.general, timeout=10)
        await standin.wait_until(lambda: "✅ Reindex finished" in moved.content, timeout=45)
    assert closed.sent == 1 and standin.bot_messages(dm) == [] and not ix.rejected
    original = standin.message(ix.original_message_id).content
    assert f"/channels/{standin.guild.id}/{standin.general.id}/{moved.id}" in original


async def test_a_dm_that_fails_for_another_reason_is_tried_again_never_moved_to_the_channel(
    standin: DiscordStandin, start_bot: StartBot, tmp_path: Path
):
    """Discord failed the DM (a 503), the user takes DMs: the admin's private report went to the
    channel for everyone there to read, as if the user took none (50007). It is tried again."""
    dm = standin.world.dm_channel(standin.owner)
    failed = standin.refusals.inject(
        lambda method, path: method == "POST" and path.endswith(f"/channels/{dm.id}/messages"),
        503,
        0,
        "Service unavailable",
    )
    async with asyncio.timeout(60), start_bot(**long_job_options(standin, tmp_path)) as bot:
        async with WriterLock(bot.settings.data_path / "writer.lock").hold():
            await standin.send_slash_command("operator reindex", user=standin.owner)
            moved = await standin.wait_for_bot_message(channel=dm, timeout=10)
        await standin.wait_until(lambda: "✅ Reindex finished" in moved.content, timeout=45)
    assert failed.sent == 1 and standin.bot_messages(standin.general) == []
    assert len(standin.bot_messages(dm)) == 1


async def test_a_dm_discord_posted_but_answered_with_an_error_is_not_posted_twice(
    standin: DiscordStandin, start_bot: StartBot, tmp_path: Path
):
    """Discord posted the status DM and then answered 503: the retry carries the same nonce, so
    Discord returns that DM instead of posting a second, and it shows the final report."""
    dm = standin.world.dm_channel(standin.owner)
    posts = f"/channels/{dm.id}/messages"
    sent = standin.hold_answers(lambda r: r.method == "POST" and r.path == posts)
    async with asyncio.timeout(60), start_bot(**long_job_options(standin, tmp_path)) as bot:
        async with WriterLock(bot.settings.data_path / "writer.lock").hold():
            await standin.send_slash_command("operator reindex", user=standin.owner)
            await standin.wait_until(lambda: sent.held, timeout=10, what="the DM posted")
            sent.fail(503)
            moved = await standin.wait_for_bot_message(channel=dm, timeout=20)
        await standin.wait_until(lambda: "✅ Reindex finished" in moved.content, timeout=45, what="report")
    assert standin.bot_messages(dm) == [moved] and standin.bot_messages(standin.general) == []
    tries = [r for r in standin.requests if r.method == "POST" and r.path == posts]
    assert [r.status for r in tries] == [503, 200] and tries[1].response["id"] == str(moved.id)


async def test_a_dm_failing_past_the_token_and_the_job_gets_the_final_report_once_it_passes(
    standin: DiscordStandin, start_bot: StartBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    """Opening the DM failed (Discord's 503s) until the token expired and the retries of the move
    ran out: the status stayed in the interaction, and the final report, ready after the token,
    was shown nowhere. It is tried again when ready, and reaches the admin once Discord recovers."""
    outage = unavailable(standin, "/users/@me/channels")
    async with asyncio.timeout(60), start_bot(**long_job_options(standin, tmp_path)) as bot:
        async with WriterLock(bot.settings.data_path / "writer.lock").hold():
            ix = await standin.send_slash_command("operator reindex", user=standin.owner)
            await standin.wait_until(lambda: "could not move the reindex" in caplog.text, timeout=20)
            assert standin.token_expired(ix)
            tries = outage.sent
        await standin.wait_until(lambda: outage.sent > tries, timeout=20, what="a try of the report")
        outage.count = outage.sent  # Discord recovers
        dm = standin.world.dm_channel(standin.owner)
        done = await standin.wait_for_bot_message(channel=dm, timeout=20)
    assert done.content.startswith(f"Status of the reindex {standin.owner.mention} started")
    assert "✅ Reindex finished" in done.content and "2 new" in done.content
    assert standin.bot_messages(standin.general) == []  # the private report stays private


async def test_a_final_report_that_finds_no_way_to_its_admin_is_logged_not_posted(
    standin: DiscordStandin, start_bot: StartBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    dm = standin.world.dm_channel(standin.owner)
    unavailable(standin, f"/channels/{dm.id}/messages")
    async with asyncio.timeout(60), start_bot(**long_job_options(standin, tmp_path)) as bot:
        async with WriterLock(bot.settings.data_path / "writer.lock").hold():
            ix = await standin.send_slash_command("operator reindex", user=standin.owner)
            await standin.wait_until(lambda: "could not move the reindex" in caplog.text, timeout=20)
            assert standin.token_expired(ix)
        await standin.wait_until(lambda: "final report" in caplog.text, timeout=20, what="the report")
    assert f"could not show user {standin.owner.id} the final report of their reindex" in caplog.text
    assert "✅ Reindex finished" in caplog.text
    assert standin.bot_messages(standin.general) == [] and standin.bot_messages(dm) == []


def unavailable(standin: DiscordStandin, path: str) -> Refusal:
    """Discord answers every POST to ``path`` with a 503 until the injection's count is lowered."""
    return standin.refusals.inject(
        lambda method, p: method == "POST" and p == path, 503, 0, "Service unavailable", count=1000
    )


def long_job_options(standin: DiscordStandin, tmp_path: Path) -> dict[str, object]:
    return {
        "reindex_paths": [str(wires(tmp_path))],
        "interaction_token_s": TOKEN_S,
        "operator_guild_ids": [standin.guild.id],
    }


async def test_an_ingest_waiting_for_another_writer_says_so_and_reports_past_the_token(
    standin: DiscordStandin, start_bot: StartBot, news: FixtureServer
):
    news.serve(GAZA.path, page(GAZA, news.base_url))
    waiting = "Indexing: waiting for another update of the index to finish"
    options = {"poll_feeds": False, "interaction_token_s": TOKEN_S, "status_edit_interval_s": 0.1}
    async with asyncio.timeout(120), start_bot(**options) as bot:
        # Another process (a fetch, a reindex) writes the index: the ingest waits past the token.
        async with WriterLock(bot.settings.data_path / "writer.lock").hold():
            ix = await standin.send_slash_command(
                "admin ingest", {"url": news.url(GAZA.path)}, user=standin.admin
            )
            moved = await standin.wait_for_bot_message(
                channel=standin.world.dm_channel(standin.admin), timeout=10
            )
            await standin.wait_until(lambda: waiting in moved.content, timeout=10, what="the waiting notice")
            await standin.wait_until(lambda: standin.token_expired(ix), timeout=10, what="token expiry")
        done = await standin.wait_until(
            lambda: "✅" in moved.content and moved, timeout=90, what="the result"
        )
    original = standin.message(ix.original_message_id)
    assert original.content.startswith("Indexing this page is taking a while: its status continues here")
    assert done.content.startswith(f"Status of the page {standin.admin.mention} asked to index")
    assert f"✅ Added “{GAZA.title}”" in done.content
    assert not ix.rejected  # nothing was sent to the interaction after its token expired
    assert_everything_quiet(standin)


async def test_a_reindex_that_breaks_after_the_token_says_so_where_its_status_moved(
    standin: DiscordStandin, start_bot: StartBot, tmp_path: Path
):
    """A bug (not an expected error) ends a reindex once its status has left the interaction: the
    error handler can no longer reach the expired interaction, so the moved status must say it
    failed rather than show the last progress forever."""
    options = {"interaction_token_s": TOKEN_S, "operator_guild_ids": [standin.guild.id]}
    broken = asyncio.Event()

    async def breaks(*args: object, **kwargs: object) -> None:
        await broken.wait()
        raise RuntimeError("the disk caught fire")

    async with asyncio.timeout(60), start_bot(**options) as bot:
        bot.engine.index = breaks  # type: ignore[method-assign]
        ix = await standin.send_slash_command("operator reindex", user=standin.owner)
        moved = await standin.wait_for_bot_message(
            channel=standin.world.dm_channel(standin.owner), timeout=10
        )
        await standin.wait_until(lambda: standin.token_expired(ix), timeout=10, what="token expiry")
        broken.set()
        await standin.wait_until(lambda: "❌" in moved.content, timeout=20, what="the failure")
    assert moved.content.endswith(EN("reindex.failed", message=EN("error.apology")))
    assert not ix.rejected


async def never_ends(*args: object, **kwargs: object) -> None:
    await asyncio.Event().wait()


async def test_a_reindex_cut_short_by_a_stop_says_so_where_its_status_moved(
    standin: DiscordStandin, start_bot: StartBot
):
    """The bot stopped during a reindex: its status (moved to a DM) showed its last progress
    forever, as if the reindex still ran. It says, in the operator's language, that the stop
    cut it short and that the last good index keeps answering."""
    options = {"interaction_token_s": TOKEN_S, "operator_guild_ids": [standin.guild.id]}
    async with asyncio.timeout(60):
        async with start_bot(**options) as bot:
            bot.engine.index = never_ends  # type: ignore[method-assign]
            await standin.send_slash_command("operator reindex", user=standin.owner, locale="id")
            moved = await standin.wait_for_bot_message(
                channel=standin.world.dm_channel(standin.owner), timeout=10
            )
    assert moved.content.endswith(texts("id")("reindex.interrupted")), moved.content


@pytest.mark.parametrize(
    ("command", "key"), [("admin fetch", "fetch.interrupted"), ("admin ingest", "ingest.interrupted")]
)
async def test_a_fetch_or_an_ingest_cut_short_by_a_stop_says_so(
    standin: DiscordStandin, start_bot: StartBot, command: str, key: str
):
    """The bot stopped during a server's fetch or ingest: its status (moved to a DM) showed its
    last progress forever, as if it still ran."""
    async with asyncio.timeout(60):
        async with start_bot(interaction_token_s=TOKEN_S) as bot:
            await bot.feeds.add_feed(
                "https://news.example/rss", name="wire", check=False, guild_id=standin.guild.id
            )
            bot.feeds.fetch = bot.feeds.ingest = never_ends  # type: ignore[method-assign]
            options = {"url": "https://news.example/a1.html"} if command == "admin ingest" else {}
            await standin.send_slash_command(command, options, user=standin.admin, locale="id")
            moved = await standin.wait_for_bot_message(
                channel=standin.world.dm_channel(standin.admin), timeout=10
            )
    assert moved.content.endswith(texts("id")(key)), moved.content


async def test_saying_a_reindex_was_cut_short_holds_a_stop_up_for_stop_notice_s_at_most(
    standin: DiscordStandin, start_bot: StartBot, caplog: pytest.LogCaptureFixture
):
    """Discord not answering the edit (an outage, the reason for the restart) must not hold the
    stop up: the edit is tried once, for ``stop_notice_s``, and the bot closes."""
    options = {"interaction_token_s": TOKEN_S, "operator_guild_ids": [standin.guild.id]}
    async with asyncio.timeout(60):
        async with start_bot(**options) as bot:
            bot.engine.index = never_ends  # type: ignore[method-assign]
            bot.stop_notice_s = 0.2
            await standin.send_slash_command("operator reindex", user=standin.owner)
            moved = await standin.wait_for_bot_message(
                channel=standin.world.dm_channel(standin.owner), timeout=10
            )
            held = standin.hold_answers(lambda r: r.method == "PATCH" and str(moved.id) in r.path)
        held.release()
    assert [r.json["content"] for r in held.held] == [moved.content]
    assert moved.content.endswith(EN("reindex.interrupted"))
    assert "not every job cut short was said so in 0.2 s" in caplog.text


class BotClock:
    """The bot's clock (UTC), moving only when slept on; each sleep yields to the loop."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=max(seconds, 0.0))
        await asyncio.sleep(0)


async def test_a_status_moves_before_the_token_ends_when_the_bots_clock_is_behind_discords():
    """The bot's clock said a year before Discord's (until NTP set it right): the move waited a
    year from the interaction's time, the status stayed in the interaction past its token, and
    its updates were lost until the job ended. It moves ``after_s`` into the token at the latest."""
    made = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # the interaction's id says so: Discord's clock
    clock = BotClock(made - timedelta(days=365))
    started, moved = clock.now, asyncio.Event()

    async def send(text: str, **fields: object) -> SimpleNamespace:
        moved.set()
        return SimpleNamespace(content=text, jump_url="https://discord.com/channels/@me/1/2", id=2)

    async def edit_original_response(**fields: object) -> None:
        return None

    user = SimpleNamespace(id=7, mention="<@7>", send=send)
    ix = SimpleNamespace(created_at=made, user=user, edit_original_response=edit_original_response)
    handoff = Handoff(ix, after_s=840.0, what="reindex", clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    handoff.start()
    async with asyncio.timeout(10):
        await moved.wait()
    await handoff.stop()
    assert clock.now - started <= timedelta(seconds=840)  # Discord's 15 minutes had not run out
