"""What ``foreign-desk run`` and ``foreign-desk sync`` call.

Both read the token from ``DISCORD_TOKEN`` only, and turn Discord refusing it into one line
that never contains the token. ``run_bot`` runs until Discord drops the bot for good or
SIGINT / SIGTERM arrives, then closes the bot (a running reindex is cancelled, the index on
disk stays consistent, and its status message says so: ``ForeignDeskBot.stopped_jobs``) and
returns; a second Ctrl-C during a slow stop exits 130 at once. It runs every shard Discord
recommends, or with ``shard_count`` / ``shard_ids`` a slice of them, so that several processes
share the servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import discord
from foreign_desk.index.config import Settings

from .client import ForeignDeskBot
from .errors import BotError, TokenRejected
from .settings import load_bot_settings, read_token

log = logging.getLogger(__name__)


class _NoVoiceWarning(logging.Filter):
    """discord.py warns at every start that PyNaCl and davey (voice) are missing; this bot has no voice."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "voice will NOT be supported" not in str(record.msg)


logging.getLogger("discord.client").addFilter(_NoVoiceWarning())

_TOKENS = re.compile(r"""(['"]token['"]:\s*['"])[^'"]+|(/(?:interactions|webhooks)/\d+/)[^/?\s'"]+""")
"""An interaction's token in an event's payload (``'token': '…'``) or in a webhook's path."""


class _RedactTokens(logging.Filter):
    """discord.py's debug lines (``-vv``) hold every event received and every URL requested, so
    interaction tokens, each good for 15 minutes of posting and editing as the bot: they are
    logged as ``<redacted>``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _TOKENS.sub(lambda m: (m[1] or m[2]) + "<redacted>", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


for _name in ("discord.gateway", "discord.http", "discord.webhook.async_"):
    logging.getLogger(_name).addFilter(_RedactTokens())

REJECTED = (
    "Discord rejected the token in DISCORD_TOKEN: check it (or reset it) in the developer portal, Bot tab."
)


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Discord's start-up refusals as one-line ``BotError``s."""
    try:
        yield
    except discord.LoginFailure:
        raise TokenRejected(REJECTED) from None
    except discord.PrivilegedIntentsRequired:
        raise BotError(
            "Discord refused a privileged intent: enable it under Bot → Privileged Gateway Intents"
        ) from None
    except discord.ConnectionClosed as exc:
        if exc.code == 4011:
            raise BotError(
                "Discord requires more shards (a shard would hold too many servers): run with a "
                "larger --shard-count, or without it to use the count Discord recommends"
            ) from None
        if exc.code == 4010:
            raise BotError(
                "Discord refused the shard: each of --shard-ids must be below --shard-count"
            ) from None
        raise
    except discord.HTTPException as exc:
        if exc.status == 401:
            raise TokenRejected(REJECTED) from None
        raise BotError(f"Discord answered {exc.status} ({exc.code}): {exc.text}") from None
    except aiohttp.ClientConnectorError as exc:  # DNS, refused, unreachable: no network
        why = exc.strerror or exc.os_error
        raise BotError(f"cannot reach Discord at {exc.host}:{exc.port} ({why}): check the network") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise BotError(f"the connection to Discord failed: {type(exc).__name__}: {exc}") from None


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """SIGINT / SIGTERM set ``stop`` (where the loop can take signal handlers: the main thread);
    once stopping, a second Ctrl-C exits at once (``_exit_at_once``)."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []

    def stopping() -> None:
        stop.set()
        if signal.SIGINT in installed:  # a plain handler: it runs while the loop is blocked too
            installed.remove(signal.SIGINT)
            loop.remove_signal_handler(signal.SIGINT)
            signal.signal(signal.SIGINT, _exit_at_once)

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stopping)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            pass
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        if signal.getsignal(signal.SIGINT) is _exit_at_once:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _exit_at_once(signum: int, frame: object) -> None:
    """A second Ctrl-C while the bot stops (Discord slow to answer, a reindex's thread to join):
    exit 130 now, as a kill would. Nothing is damaged: what was not committed rolls back, and the
    last published index keeps serving (both are what a kill at any moment must leave)."""
    os.write(2, b"interrupted\n")
    os._exit(130)


def refuse_read_only(data_dir: Path) -> None:
    """The bot keeps its own state in the data folder (buttons, votes and cooldowns in
    ``discord.sqlite3``, the feeds' tables, its locks), so it cannot run where that cannot be
    written (a read-only mount or copy, which ``ask`` and ``doctor`` read): say so before logging
    in, instead of failing halfway through starting with SQLite's words for it."""
    files = [data_dir, *data_dir.glob("*.sqlite3")] if data_dir.is_dir() else []
    if not all(os.access(path, os.W_OK) for path in files):
        raise BotError(
            f"the data folder {data_dir} cannot be written, and the bot keeps its state there: "
            "run it on a writable folder (`foreign-desk ask` and `doctor` can read this one)"
        )


def shard_options(shard_count: int | None, shard_ids: Sequence[int] | None) -> dict[str, Any]:
    """discord.py's sharding options from ``--shard-count`` / ``--shard-ids``, checked."""
    if shard_ids and shard_count is None:
        raise BotError("--shard-ids needs --shard-count (the total number of shards of the bot)")
    if shard_count is None:
        return {}
    if shard_count < 1:
        raise BotError("--shard-count must be at least 1")
    ids = sorted(set(shard_ids or range(shard_count)))
    wrong = [i for i in ids if not 0 <= i < shard_count]
    if wrong:
        raise BotError(f"shard ids {wrong} are not below --shard-count {shard_count}")
    return {"shard_count": shard_count, "shard_ids": ids}


async def run_bot(
    settings: Settings,
    *,
    shard_count: int | None = None,
    shard_ids: Sequence[int] | None = None,
    environ: Mapping[str, str] | None = None,
    **client_options: Any,
) -> None:
    """Log in, load the engine, answer until stopped; return after a clean close."""
    token = read_token(environ)
    bot_settings = load_bot_settings(settings, environ)
    client_options.update(shard_options(shard_count, shard_ids))
    await asyncio.to_thread(refuse_read_only, settings.data_path)
    bot = ForeignDeskBot(settings, bot_settings, **client_options)
    stop = asyncio.Event()
    with _stop_on_signals(stop), _translated():
        async with bot:
            runner = asyncio.create_task(bot.start(token), name="discord-bot")
            stopper = asyncio.create_task(stop.wait(), name="wait-for-signal")
            done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if stopper in done:
                log.info("stopping: closing the Discord connection and the index (Ctrl-C again: at once)")
                await _set_up_or_ended(bot, runner)
                await bot.close()
            else:
                stopper.cancel()
            await runner
    log.info("stopped")


async def _set_up_or_ended(bot: ForeignDeskBot, runner: asyncio.Task[None]) -> None:
    """Wait while ``setup_hook`` still opens the index and the feeds (a signal during the model's
    load): closed before it ends, they would stay open, and the process would not exit."""
    set_up = asyncio.create_task(bot.set_up.wait())
    await asyncio.wait({runner, set_up}, return_when=asyncio.FIRST_COMPLETED)
    set_up.cancel()


async def sync_commands(
    settings: Settings, guild_id: int | None, *, environ: Mapping[str, str] | None = None
) -> int:
    """Register the slash commands globally (or on one guild, at once); return how many.

    Globally, the /operator group is registered on each of ``discord.operator_guild_ids`` too."""
    token = read_token(environ)
    bot = ForeignDeskBot(settings, load_bot_settings(settings, environ), open_engine=False)
    with _translated():
        async with bot:
            await bot.login(token)  # runs setup_hook: the cogs, hence the command tree, without the engine
            if guild_id is None:
                synced = await bot.tree.sync()
                await _sync_operators(bot, len(synced))
            else:
                guild = discord.Object(guild_id)
                bot.tree.copy_global_to(guild=guild)
                synced = await bot.tree.sync(guild=guild)
    log.info("registered %d commands %s", len(synced), f"on guild {guild_id}" if guild_id else "globally")
    return len(synced)


async def _sync_operators(bot: ForeignDeskBot, synced: int) -> None:
    """Register /operator on each of ``discord.operator_guild_ids``; one line naming those Discord
    refused (a typo, or a server that removed the bot), once the others have it."""
    refused = []
    for operator_guild in bot.bot_settings.operator_guild_ids:
        try:
            await bot.tree.sync(guild=discord.Object(operator_guild))
        except discord.HTTPException as exc:
            refused.append(f"{operator_guild} (Discord {exc.status} {exc.code}: {exc.text})")
            continue
        log.info("registered /operator on guild %d", operator_guild)
    if refused:
        raise BotError(
            f"registered {synced} commands globally, but not /operator on server {', '.join(refused)}: "
            "is the bot in it? check discord.operator_guild_ids"
        )
