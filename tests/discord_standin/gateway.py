"""The websocket gateway: HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats, RESUME, dispatch.

Transport compression follows the `compress` query parameter the client connects with:
`zlib-stream` (what discord.py 2.7 asks for unless the `zstandard` package is installed) or
`zstd-stream` (served only if `zstandard` is importable here too). Only `encoding=json`.

Sessions outlive connections: events dispatched while the client is reconnecting are kept and
replayed on RESUME, as Discord does. A client close with 1000/1001 ends the session.

Shards: IDENTIFY's `shard: [id, count]` (default [0, 1]) picks the guilds a session gets — those
with `(guild_id >> 22) % count == id` — in READY and GUILD_CREATE, and every later event of a
guild goes to the newest live session of its shard (DMs to shard 0), so several clients (one per
shard, in several processes) share the guilds as on Discord; with `every_session_of_shard`, to
each live session of its shard, as Discord does for sessions identified with the same shard. A
shard that would hold more than `max_guilds_per_shard` guilds is closed with 4011 (sharding
required); an impossible shard (id >= count) with 4010.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .errors import StandinUsageError
from .records import HeartbeatRecord
from .world import Guild, shard_of

if TYPE_CHECKING:
    from .server import DiscordStandin

log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE = 0, 1, 2, 3, 4
RESUME, RECONNECT, REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 6, 7, 8, 9, 10, 11

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT
# Application flags granting the privileged intents ("limited" = allowed for unverified bots).
APP_FLAG_FOR_INTENT = {
    INTENT_GUILD_PRESENCES: 1 << 13,
    INTENT_GUILD_MEMBERS: 1 << 15,
    INTENT_MESSAGE_CONTENT: 1 << 19,
}


class _Zlib:
    def __init__(self) -> None:
        self._c = zlib.compressobj()

    def __call__(self, data: bytes) -> bytes:
        return self._c.compress(data) + self._c.flush(zlib.Z_SYNC_FLUSH)


def _make_compressor(name: str | None) -> Callable[[bytes], bytes] | None:
    if not name:
        return None
    if name == "zlib-stream":
        return _Zlib()
    if name == "zstd-stream":
        import zstandard  # only needed when the client has it too

        cobj = zstandard.ZstdCompressor().compressobj()
        return lambda data: cobj.compress(data) + cobj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
    raise ValueError(name)


@dataclass
class GatewayConnection:
    """One websocket connection. `close_code`: the code that ended it (None while open).

    `closed_by` is "server" when the stand-in closed it (e.g. 4004, 4014), else "client".
    """

    id: int
    ws: web.WebSocketResponse
    compression: str | None
    opened_at: float = field(default_factory=time.monotonic)
    session: Session | None = None
    heartbeats: list[HeartbeatRecord] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None
    closed_by: str | None = None
    compressor: Callable[[bytes], bytes] | None = None
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def open(self) -> bool:
        return self.close_code is None and not self.ws.closed


@dataclass
class Session:
    """A gateway session (IDENTIFY → READY), resumable across connections."""

    id: str
    identify: dict[str, Any]
    seq: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)
    connection: GatewayConnection | None = None
    resumes: int = 0
    ended: bool = False

    @property
    def intents(self) -> int:
        return int(self.identify.get("intents", 0))

    @property
    def shard(self) -> tuple[int, int]:
        """(shard id, shard count) from IDENTIFY; (0, 1) when the client did not shard."""
        raw = self.identify.get("shard") or [0, 1]
        return int(raw[0]), int(raw[1])

    def owns(self, guild_id: int | None) -> bool:
        """Whether this session receives the events of `guild_id` (None: DMs, shard 0's)."""
        shard_id, count = self.shard
        return shard_id == (0 if guild_id is None else shard_of(guild_id, count))


class Gateway:
    """Serves `GET /` websocket upgrades for a `DiscordStandin`."""

    def __init__(self, standin: DiscordStandin) -> None:
        self.standin = standin
        self.connections: list[GatewayConnection] = []
        self.sessions: dict[str, Session] = {}
        self.current: Session | None = None

    # -- connection lifecycle ------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        compression = request.query.get("compress")
        conn = GatewayConnection(len(self.connections) + 1, ws, compression)
        self.connections.append(conn)
        self.standin.notifier.changed()
        if request.query.get("encoding", "json") != "json":
            await self._close(conn, 4002, "the stand-in speaks only encoding=json")
            return ws
        try:
            conn.compressor = _make_compressor(compression)
        except (ValueError, ImportError):
            await self._close(conn, 4000, f"unsupported compress={compression}")
            return ws
        await self._send(
            conn, {"op": HELLO, "d": {"heartbeat_interval": self.standin.config.heartbeat_interval_ms}}
        )
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    try:
                        payload = json.loads(msg.data)
                    except ValueError:
                        await self._close(conn, 4002, "Error while decoding payload.")
                        break
                    await self._on_payload(conn, payload)
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            if conn.closed_by is None:
                conn.closed_by = "client"
                conn.close_code = ws.close_code if ws.close_code is not None else 1006
            session = conn.session
            if session is not None and session.connection is conn:
                session.connection = None
                if conn.close_code in (1000, 1001):
                    session.ended = True
            self.standin.notifier.changed()
        return ws

    async def _close(self, conn: GatewayConnection, code: int, reason: str) -> None:
        if conn.closed_by is None:
            conn.closed_by, conn.close_code = "server", code
        await conn.ws.close(code=code, message=reason.encode())

    async def close_all(self, code: int = 1001) -> None:
        for conn in self.connections:
            if not conn.ws.closed:
                await self._close(conn, code, "stand-in shutting down")

    async def _send(self, conn: GatewayConnection, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, separators=(",", ":"))
        async with conn.send_lock:  # compressed streams and split frames must stay in order
            if conn.ws.closed:
                return
            if conn.compressor is None:
                await conn.ws.send_str(data)
                return
            blob = conn.compressor(data.encode())
            if self.standin.config.split_compressed_frames and len(blob) > 8:
                # Exercise the client's buffering of partial zlib messages.
                await conn.ws.send_bytes(blob[: len(blob) // 2])
                blob = blob[len(blob) // 2 :]
            await conn.ws.send_bytes(blob)

    # -- client → gateway -----------------------------------------------------------------

    async def _on_payload(self, conn: GatewayConnection, payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d")
        fields: dict[str, Any] = data if isinstance(data, dict) else {}
        if op == HEARTBEAT:
            conn.heartbeats.append(HeartbeatRecord(conn.id, time.monotonic(), data))
            await self._send(conn, {"op": HEARTBEAT_ACK})
            self.standin.notifier.changed()
            return
        conn.received.append(payload)
        if op == IDENTIFY:
            await self._identify(conn, fields)
        elif op == RESUME:
            await self._resume(conn, fields)
        elif conn.session is None:
            await self._close(conn, 4003, "Not authenticated.")
        elif op == REQUEST_MEMBERS:
            await self._request_members(conn.session, fields)
        elif op not in (PRESENCE, VOICE_STATE):
            await self._close(conn, 4001, "Unknown opcode.")
        self.standin.notifier.changed()

    async def _identify(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        if conn.session is not None:
            await self._close(conn, 4005, "Already authenticated.")
            return
        if data.get("token") != self.standin.config.bot_token:
            await self._close(conn, 4004, "Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        if intents & PRIVILEGED_INTENTS & ~self.standin.config.privileged_intents:
            await self._close(conn, 4014, "Disallowed intent(s).")
            return
        session = Session(secrets.token_hex(16), data)
        shard_id, count = session.shard
        if count < 1 or not 0 <= shard_id < count:
            await self._close(conn, 4010, "Invalid shard.")
            return
        guilds = self.shard_guilds(session)
        if len(guilds) > self.standin.config.max_guilds_per_shard:
            await self._close(conn, 4011, "Sharding required.")
            return
        self.sessions[session.id] = session
        self.current = session
        session.connection = conn
        conn.session = session
        await self.dispatch("READY", self._ready(session, guilds), session=session)
        if intents & INTENT_GUILDS:
            for guild in guilds:
                await self.dispatch("GUILD_CREATE", self.guild_create(session, guild), session=session)

    def shard_guilds(self, session: Session) -> list[Guild]:
        """The guilds the bot is in whose events belong to this session's shard."""
        return [g for g in self.standin.world.bot_guilds() if session.owns(g.id)]

    def _ready(self, session: Session, guilds: list[Guild]) -> dict[str, Any]:
        world = self.standin.world
        return {
            "v": 10,
            "user": {**world.bot.payload(), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.standin.gateway_url,
            "shard": list(session.shard),
            "application": {"id": str(world.application_id), "flags": self.standin.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["stand-in"],
            "user_settings": {},
            "auth": {},
            "_trace": ['["stand-in-gateway",{"micros":0}]'],
        }

    def guild_create(self, session: Session, guild: Guild, *, joined: bool = False) -> dict[str, Any]:
        """A GUILD_CREATE `d` for `guild`, with the members this session's intents allow.

        After READY, Discord sends a guild the bot just joined without `unavailable` (discord.py
        then fires on_guild_join; `unavailable: false` means one back from an outage)."""
        data = guild.payload(members=self.visible_members(session, guild), viewer=self.standin.world.bot.id)
        if joined:
            del data["unavailable"]
        return data

    def visible_members(self, session: Session, guild: Guild | None = None) -> list[Any]:
        """GUILD_CREATE carries every member only with the GUILD_MEMBERS intent; else just the bot."""
        guild = guild or self.standin.world.guild
        if session.intents & INTENT_GUILD_MEMBERS:
            return list(guild.members.values())
        bot_id = self.standin.world.bot.id
        return [guild.members[bot_id]] if bot_id in guild.members else []

    async def _resume(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        session = self.sessions.get(data.get("session_id", ""))
        if session is None or session.ended or data.get("token") != self.standin.config.bot_token:
            await self._send(conn, {"op": INVALID_SESSION, "d": False})
            return
        old = session.connection
        if old is not None and old is not conn and not old.ws.closed:
            await self._close(old, 4000, "resumed elsewhere")
        session.connection = conn
        session.resumes += 1
        conn.session = session
        after = data.get("seq") or 0
        for event in session.log:
            if event["s"] > after:
                await self._send(conn, event)
        await self.dispatch("RESUMED", {}, session=session)

    async def _request_members(self, session: Session, data: dict[str, Any]) -> None:
        gid = str(data.get("guild_id", ""))
        guild = self.standin.world.guilds.get(int(gid)) if gid.isdigit() else None
        if guild is None or not session.intents & INTENT_GUILD_MEMBERS:
            return
        members = list(guild.members.values())
        if data.get("user_ids"):
            wanted = {int(u) for u in data["user_ids"]}
            members = [m for m in members if m.user.id in wanted]
        elif data.get("query"):
            members = [m for m in members if m.user.username.startswith(data["query"])]
        if data.get("limit"):
            members = members[: data["limit"]]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [m.payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self.dispatch("GUILD_MEMBERS_CHUNK", chunk, session=session)

    # -- gateway → client -----------------------------------------------------------------

    def session_for(self, guild_id: int | None) -> Session | None:
        """The newest live session of the shard that owns `guild_id` (None: DMs, shard 0)."""
        sessions = self.sessions_for(guild_id)
        return sessions[0] if sessions else None

    def sessions_for(self, guild_id: int | None) -> list[Session]:
        """The live sessions that get the events of `guild_id`, newest first: the newest one of its
        shard, or all of them with `config.every_session_of_shard`."""
        live = [s for s in reversed(self.sessions.values()) if not s.ended and s.owns(guild_id)]
        return live if self.standin.config.every_session_of_shard else live[:1]

    async def dispatch_for(self, guild_id: int | None, event: str, data: dict[str, Any]) -> int:
        """Dispatch an event of `guild_id` (None: a DM's) to the session(s) of its shard; return
        the `s` of the newest one."""
        sessions = self.sessions_for(guild_id)
        if not sessions:
            if self.current is None:
                raise StandinUsageError("no client has identified with the stand-in yet (start one first)")
            raise StandinUsageError(f"no live session owns the shard of guild {guild_id} ({event})")
        seqs = [await self.dispatch(event, data, session=session) for session in sessions]
        return seqs[0]

    async def dispatch(self, event: str, data: dict[str, Any], *, session: Session | None = None) -> int:
        """Send a DISPATCH to `session` (default: the latest identified one); return its `s`.

        If the session's client is disconnected the event waits in the session log for RESUME.
        """
        session = session or self.current
        if session is None:
            raise StandinUsageError("no client has identified with the stand-in yet (start one first)")
        session.seq += 1
        payload = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.log.append(payload)
        conn = session.connection
        if conn is not None and not conn.ws.closed:
            await self._send(conn, payload)
        self.standin.notifier.changed()
        return session.seq

    async def send_op(self, op: int, data: Any = None) -> None:
        """Send a raw opcode (e.g. HEARTBEAT, RECONNECT, INVALID_SESSION) on the current connection."""
        conn = self.current.connection if self.current else None
        if conn is None:
            raise StandinUsageError("no client is connected to the stand-in")
        await self._send(conn, {"op": op, "d": data})

    @property
    def heartbeats(self) -> list[HeartbeatRecord]:
        return [hb for conn in self.connections for hb in conn.heartbeats]
