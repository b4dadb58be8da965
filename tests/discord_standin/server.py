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
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from .actions import UserActions
from .commands import CommandRegistry
from .errors import StandinUsageError
from .gateway import APP_FLAG_FOR_INTENT, HEARTBEAT, INVALID_SESSION, PRIVILEGED_INTENTS, RECONNECT, Gateway
from .messaging import Messages
from .records import HeartbeatRecord, InteractionRecord, Notifier, RecordedRequest, StoredMessage
from .rest import RestApi
from .snowflakes import SnowflakeFactory
from .world import Channel, Guild, User, World

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
    """

    heartbeat_interval_ms: int = 1000
    interaction_ack_timeout: float = 3.0
    interaction_token_ttl: float = 900.0
    bot_token: str = "stand-in.bot.token"
    privileged_intents: int = PRIVILEGED_INTENTS
    split_compressed_frames: bool = False
    strict_commands: bool = False
    attachment_size_limit: int = 10 * 1024 * 1024
    host: str = "127.0.0.1"


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

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Send any gateway event to the bot (escape hatch); returns its sequence number."""
        return await self.gateway.dispatch(event, data)

    def __repr__(self) -> str:
        counts = f"requests={len(self.requests)} interactions={len(self.interactions)}"
        return f"<DiscordStandin {self.http_url} {counts}>"
