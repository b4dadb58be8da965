"""`DiscordStandin`: the REST API and gateway on 127.0.0.1, plus the helpers tests drive it with.

Concurrency: the stand-in runs on the test's event loop and all its state is touched only from
that loop; its methods are not thread-safe. A bot that blocks the loop therefore also delays the
stand-in, but every deadline (heartbeats, the 3 s interaction window) is measured with
`time.monotonic()`, so a stall still shows up as a late heartbeat or an expired interaction.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from .actions import UserActions
from .commands import CommandRegistry
from .errors import Refusals, StandinUsageError
from .gateway import APP_FLAG_FOR_INTENT, HEARTBEAT, INVALID_SESSION, PRIVILEGED_INTENTS, RECONNECT, Gateway
from .holds import Hold, Holds
from .messaging import Messages
from .ratelimits import RateLimits
from .records import HeartbeatRecord, InteractionRecord, Notifier, RecordedRequest, StoredMessage
from .rest import RestApi
from .snowflakes import SnowflakeFactory
from .world import GUILD_CREATE_ONLY, Channel, Guild, User, World

if TYPE_CHECKING:
    import discord

log = logging.getLogger(__name__)
ClientT = TypeVar("ClientT", bound="discord.Client")


@dataclass
class StandinConfig:
    """Knobs of the stand-in; the defaults are Discord's values except where tests need speed.

    heartbeat_interval_ms: sent in HELLO (Discord: ~41250).
    interaction_ack_timeout: seconds the bot has for the initial response (Discord: 3).
    interaction_token_ttl: seconds followups/edits stay possible (Discord: 900).
    privileged_intents: the privileged intents "enabled in the developer portal"; asking for
        others closes the gateway with 4014 like Discord.
    split_compressed_frames: send each compressed payload in two websocket frames.
    strict_commands: refuse to dispatch commands the bot never registered.
    max_guilds_per_shard: a shard that would receive more guilds is closed with 4011 (Discord: 2500).
    recommended_shards: `shards` in GET /gateway/bot (None: one per 1000 guilds, like Discord).
    route_limits, global_limit: rate limits (see `ratelimits.py`); none by default.
    nonce_window_s: how long `enforce_nonce` finds an earlier message (Discord: "a few minutes").
    role_mention_shows_content: whether a message that mentions the bot's managed role (not the
        bot user) reaches a bot without the Message Content intent with its text. Discord
        documents the exemption for "messages in which the app is mentioned" only; test both.
    every_session_of_shard: a guild's (or DM's) messages, interactions and other `dispatch_for`
        events go to every live session of its shard, not only the newest (a guild joined or
        left is still told to the newest only). Discord lets several sessions identify with one
        `[shard_id, num_shards]` ("You can establish multiple sessions with the same [shard_id, num_shards]",
        Gateway docs, Sharding), as two processes do in a rolling restart's overlap.
    """

    heartbeat_interval_ms: int = 1000
    interaction_ack_timeout: float = 3.0
    interaction_token_ttl: float = 900.0
    bot_token: str = "stand-in.bot.token"
    privileged_intents: int = PRIVILEGED_INTENTS
    split_compressed_frames: bool = False
    strict_commands: bool = False
    role_mention_shows_content: bool = True
    every_session_of_shard: bool = False
    attachment_size_limit: int = 10 * 1024 * 1024
    host: str = "127.0.0.1"
    max_guilds_per_shard: int = 2500
    recommended_shards: int | None = None
    route_limits: dict[str, tuple[int, float]] = field(default_factory=dict)
    global_limit: int | None = None
    nonce_window_s: float = 300.0


class DiscordStandin(UserActions):
    """A loopback stand-in for Discord's REST API and gateway. Use as `async with DiscordStandin():`.

    User-side helpers (`send_slash_command`, `click_button`, `send_message`, …) come from
    `actions.UserActions`.

    Entities (from `world`): `application_id`, `bot`, `guild`, `general`, `announcements`,
    `admin` (Manage Guild), `user` (plain member), `owner`.
    Records: `requests`, `interactions`, `messages`, `heartbeats`, `gateway.connections`.
    """

    def __init__(self, config: StandinConfig | None = None, *, world: World | None = None) -> None:
        self.config = config or StandinConfig()
        self.new_id = world.ids if world is not None else SnowflakeFactory()
        self.world = world or World.default(self.new_id)
        self.notifier = Notifier()
        self.requests: list[RecordedRequest] = []
        self.interactions: dict[int, InteractionRecord] = {}
        self.interactions_by_token: dict[str, InteractionRecord] = {}
        self.commands = CommandRegistry()
        self.rate_limits = RateLimits(self.config.route_limits, self.config.global_limit)
        self.holds = Holds()
        self.refusals = Refusals()
        self.messages = Messages(self)
        self.gateway = Gateway(self)
        self._rest = RestApi(self)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/", self.gateway.handle)
        app.router.add_route("*", "/{tail:.*}", self._rest.handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.debug("stand-in listening on %s", self.http_url)

    async def stop(self) -> None:
        if self._runner is None:
            return
        self.holds.release_all()
        await self.gateway.close_all()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> DiscordStandin:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def http_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.config.host}:{self.port}/"

    @property
    def recommended_shards(self) -> int:
        """What GET /gateway/bot recommends: the configured count, else one shard per 1000 guilds."""
        if self.config.recommended_shards is not None:
            return self.config.recommended_shards
        return max(1, math.ceil(len(self.world.bot_guilds()) / 1000))

    @property
    def application_flags(self) -> int:
        flags = 0
        for intent, flag in APP_FLAG_FOR_INTENT.items():
            if self.config.privileged_intents & intent:
                flags |= flag
        return flags

    def patch_discord_py(self) -> contextlib.AbstractContextManager[None]:
        """Point discord.py's REST base URL and default gateway here until the block ends."""
        from .patching import point_discord_py_at

        return point_discord_py_at(self.http_url, self.gateway_url)

    def run_client(
        self, client: ClientT, *, ready_timeout: float = 10.0, close_timeout: float = 10.0
    ) -> contextlib.AbstractAsyncContextManager[ClientT]:
        """`async with standin.run_client(bot) as bot:` — started and ready inside, closed after."""
        from .harness import run_client

        return run_client(self, client, ready_timeout=ready_timeout, close_timeout=close_timeout)

    # -- entity shortcuts ----------------------------------------------------------------

    @property
    def application_id(self) -> int:
        return self.world.application_id

    @property
    def bot(self) -> User:
        return self.world.bot

    @property
    def guild(self) -> Guild:
        return self.world.guild

    @property
    def general(self) -> Channel:
        return self.world.general

    @property
    def announcements(self) -> Channel:
        return self.world.announcements

    @property
    def admin(self) -> User:
        return self.world.admin

    @property
    def user(self) -> User:
        return self.world.user

    @property
    def owner(self) -> User:
        return self.world.owner

    # -- waiting -------------------------------------------------------------------------

    async def wait_until(
        self, condition: Callable[[], Any], *, timeout: float = 5.0, what: str = "condition"
    ) -> Any:
        """Return `condition()`'s first truthy value, re-checked on every stand-in change."""
        return await self.notifier.wait_until(condition, timeout=timeout, what=what)

    async def wait_for_request(
        self,
        predicate: Callable[[RecordedRequest], object] | None = None,
        *,
        timeout: float = 5.0,
        after: int = 0,
    ) -> RecordedRequest:
        """First recorded request (from index `after`, e.g. an earlier `len(standin.requests)`) matching."""

        def find() -> RecordedRequest | None:
            return next((r for r in self.requests[after:] if predicate is None or predicate(r)), None)

        return await self.wait_until(find, timeout=timeout, what="a matching REST request")

    async def wait_for_bot_message(
        self,
        predicate: Callable[[StoredMessage], object] | None = None,
        *,
        channel: Channel | None = None,
        timeout: float = 5.0,
    ) -> StoredMessage:
        """First channel message (not an interaction response) the bot sent, optionally in `channel`."""

        def find() -> StoredMessage | None:
            return next((m for m in self.bot_messages(channel) if predicate is None or predicate(m)), None)

        return await self.wait_until(find, timeout=timeout, what="a message from the bot")

    async def wait_for_heartbeats(self, count: int, *, timeout: float = 10.0) -> list[HeartbeatRecord]:
        """Wait until the current connection has received `count` heartbeats."""

        def enough() -> list[HeartbeatRecord] | None:
            beats = self.current_connection_heartbeats()
            return beats if len(beats) >= count else None

        return await self.wait_until(enough, timeout=timeout, what=f"{count} heartbeats")

    async def wait_ready(self, *, timeout: float = 10.0) -> None:
        """Wait until a client has identified and been sent READY."""
        await self.wait_until(lambda: self.gateway.current is not None, timeout=timeout, what="IDENTIFY")

    # -- queries ---------------------------------------------------------------------------

    @property
    def heartbeats(self) -> list[HeartbeatRecord]:
        return self.gateway.heartbeats

    def current_connection_heartbeats(self) -> list[HeartbeatRecord]:
        session = self.gateway.current
        conn = session.connection if session else None
        return list(conn.heartbeats) if conn else []

    def heartbeat_intervals(self) -> list[float]:
        """Seconds between consecutive heartbeats on each connection (first beat is at HELLO)."""
        gaps: list[float] = []
        for conn in self.gateway.connections:
            times = [hb.at for hb in conn.heartbeats]
            gaps += [b - a for a, b in itertools.pairwise(times)]
        return gaps

    def bot_messages(self, channel: Channel | None = None) -> list[StoredMessage]:
        """Channel messages the bot posted itself (POST /channels/…/messages), oldest first."""
        return [
            m
            for m in self.messages.by_id.values()
            if m.author_id == self.bot.id
            and m.interaction_id is None
            and (channel is None or m.channel_id == channel.id)
        ]

    def hold_answers(self, predicate: Callable[[RecordedRequest], object]) -> Hold:
        """Handle matching requests but keep their answers until `hold.release()` (see `holds.py`)."""
        return self.holds.add(predicate)

    def token_expired(self, record: InteractionRecord) -> bool:
        """Whether `record`'s token has outlived `interaction_token_ttl` (its webhook routes then
        answer 401 50027); wait on it with `wait_until(lambda: standin.token_expired(ix))`."""
        started = record.dispatched_at
        return started is not None and time.monotonic() - started > self.config.interaction_token_ttl

    def message(self, message_id: int) -> StoredMessage:
        return self.messages.by_id[message_id]

    def unknown_routes(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route is None]

    def error_responses(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.status >= 400]

    def message_requests(self) -> list[RecordedRequest]:
        """Requests that created or edited a message (their body carries message fields)."""
        return [r for r in self.requests if r.message_body is not None and r.status < 400]

    def pinging_requests(self) -> list[RecordedRequest]:
        """Accepted message requests whose content would have notified someone."""
        return [r for r in self.message_requests() if r.pings]

    def assert_no_pings(self) -> None:
        offenders = self.pinging_requests()
        if offenders:
            lines = [
                f"{r.method} {r.path}: {r.pings} allowed_mentions={r.allowed_mentions}" for r in offenders
            ]
            raise AssertionError("requests that would have pinged:\n" + "\n".join(lines))

    # -- gateway control -----------------------------------------------------------------

    async def request_heartbeat(self) -> None:
        """Send op 1 HEARTBEAT; the client must answer with a heartbeat at once."""
        await self.gateway.send_op(HEARTBEAT, None)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py closes and RESUMEs."""
        await self.gateway.send_op(RECONNECT, None)

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; with `resumable=False` the client must IDENTIFY again."""
        if not resumable and self.gateway.current is not None:
            self.gateway.current.ended = True
        await self.gateway.send_op(INVALID_SESSION, resumable)

    async def drop_connection(self, code: int = 4000) -> None:
        """Close the current websocket from the server side (4000 = resumable)."""
        session = self.gateway.current
        if session is None or session.connection is None:
            raise StandinUsageError("no connected client")
        await self.gateway._close(session.connection, code, "dropped by the stand-in")

    async def dispatch(self, event: str, data: dict[str, Any], *, guild: Guild | None = None) -> int:
        """Send any gateway event to the bot (escape hatch); returns its sequence number.

        With `guild`, to the session of that guild's shard; else to the latest identified one."""
        if guild is not None:
            return await self.gateway.dispatch_for(guild.id, event, data)
        return await self.gateway.dispatch(event, data)

    # -- world changes the bot is told about -----------------------------------------------

    async def add_guild(
        self, name: str, *, owner: User | None = None, shard: tuple[int, int] | None = None
    ) -> Guild:
        """The bot joins a new guild: GUILD_CREATE reaches the session of its shard (on_guild_join)."""
        guild = self.world.add_guild(name, owner=owner, shard=shard)
        session = self.gateway.session_for(guild.id)
        if session is not None:
            await self.gateway.dispatch(
                "GUILD_CREATE", self.gateway.guild_create(session, guild, joined=True), session=session
            )
        return guild

    async def update_guild(self, guild: Guild) -> None:
        """Tell the bot a guild changed (after editing its `preferred_locale`): GUILD_UPDATE, the
        guild object without what only GUILD_CREATE carries (members, channels, ...)."""
        data = guild.payload(members=[])
        for key in GUILD_CREATE_ONLY:
            del data[key]
        await self.gateway.dispatch_for(guild.id, "GUILD_UPDATE", data)

    async def remove_bot_from_guild(self, guild: Guild) -> None:
        """The bot is kicked (or the guild deleted): GUILD_DELETE without `unavailable`, then every
        request about the guild or its channels answers 403 50001 Missing Access."""
        session = self.gateway.session_for(guild.id)
        guild.members.pop(self.world.bot.id, None)
        if session is not None:
            await self.gateway.dispatch("GUILD_DELETE", {"id": str(guild.id)}, session=session)

    async def delete_channel(self, channel: Channel) -> None:
        """The channel is deleted: CHANNEL_DELETE, then 404 10003 Unknown Channel for it and its
        threads (discord.py deletes the threads it knows itself). A thread: THREAD_DELETE, sent
        only if the bot could see it."""
        guild = self.world.guild_of(channel)
        if guild is None:
            raise StandinUsageError("only guild channels can be deleted")
        payload = guild.channel_payload(channel)
        seen = guild.can_view(self.world.bot.id, channel)
        del guild.channels[channel.id]
        for thread in [c for c in guild.channels.values() if c.parent_id == channel.id]:
            del guild.channels[thread.id]
        if self.gateway.session_for(guild.id) is None:
            return
        if not channel.is_thread:
            await self.gateway.dispatch_for(guild.id, "CHANNEL_DELETE", payload)
        elif seen:
            data = {k: payload[k] for k in ("id", "guild_id", "parent_id", "type")}
            await self.gateway.dispatch_for(guild.id, "THREAD_DELETE", data)

    async def update_thread(self, thread: Channel) -> None:
        """Tell the bot a thread changed (after editing its ``archived`` / ``locked``): THREAD_UPDATE,
        sent only if the bot can see the thread."""
        guild = self.world.guild_of(thread)
        if guild is None or not thread.is_thread:
            raise StandinUsageError("only threads are updated this way")
        if guild.can_view(self.world.bot.id, thread) and self.gateway.session_for(guild.id) is not None:
            payload = guild.channel_payload(thread, viewer=self.world.bot.id)
            await self.gateway.dispatch_for(guild.id, "THREAD_UPDATE", payload)

    async def update_channel(self, channel: Channel) -> None:
        """Tell the bot a channel changed (after editing its `overwrites`): CHANNEL_UPDATE."""
        guild = self.world.guild_of(channel)
        if guild is None:
            raise StandinUsageError("only guild channels are announced")
        await self.gateway.dispatch_for(guild.id, "CHANNEL_UPDATE", guild.channel_payload(channel))

    def sessions_by_shard(self) -> dict[int, Any]:
        """The newest live gateway session of each shard id."""
        found: dict[int, Any] = {}
        for session in self.gateway.sessions.values():
            if not session.ended:
                found[session.shard[0]] = session
        return found

    def __repr__(self) -> str:
        counts = f"requests={len(self.requests)} interactions={len(self.interactions)}"
        return f"<DiscordStandin {self.http_url} {counts}>"
