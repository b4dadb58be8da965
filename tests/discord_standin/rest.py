"""The REST API under `/api/v{9,10}`: routing, recording, auth, and Discord-shaped answers.

Every request is recorded (`DiscordStandin.requests`) after it is answered, unknown routes too
(404 `{"message": "404: Not Found", "code": 0}`, route None). Bot-token routes answer 401 without
`Authorization: Bot <token>`; interaction callbacks and interaction webhooks need no auth. Rate
limits (`ratelimits.py`) are checked after auth and before the handler runs.

Access, as Discord answers it: a channel that does not exist is 404 10003; a channel of a guild
the bot is not in, or one it cannot view, 403 50001 Missing Access; a channel it can view but
not send in, 403 50013. A message with embeds where the bot lacks Embed Links is sent without
them (its embeds are dropped), or refused with 50013 when the embeds were all it had.

Threads: posting takes Send Messages in Threads; a private thread is seen only by its members and
by Manage Threads (else 50001); a locked thread refuses a bot without Manage Threads with 400
50083 "Thread is archived" (what Discord answers there, discord-api-docs#5517 and #6884); a
message sent in an archived thread that is not locked unarchives it (THREAD_UPDATE), as Discord's
threads topic says.
"""

from __future__ import annotations

import copy
import json
import re
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import errors as err
from .errors import DiscordHTTPError, FormErrors
from .interaction_routes import MESSAGE_TYPE_REPLY, InteractionRoutes
from .messaging import FLAG_EPHEMERAL, SETTABLE_FLAGS
from .records import RecordedRequest, StoredMessage
from .routing import Call, Files, Handler, Route, check_edit, compile_route
from .validation import check_commands
from .world import Channel, Guild, Perm, thread_member_payload

if TYPE_CHECKING:
    from .server import DiscordStandin

API_PREFIX = re.compile(r"^/api/v(?P<version>\d+)(?P<path>/.*)$")


class RestApi:
    """Route table and handlers; one instance per `DiscordStandin`."""

    def __init__(self, standin: DiscordStandin) -> None:
        self.s = standin
        self.routes: list[tuple[str, str, re.Pattern[str], Handler, bool]] = []
        app, guild_cmds = "/applications/{app_id}", "/applications/{app_id}/guilds/{guild_id}"
        bot_routes: list[Route] = [
            ("GET", "/gateway", self.get_gateway, False),
            ("GET", "/gateway/bot", self.get_gateway_bot, True),
            ("GET", "/users/@me", self.get_me, True),
            ("POST", "/users/@me/channels", self.create_dm, True),
            ("GET", "/users/{user_id}", self.get_user, True),
            ("GET", "/oauth2/applications/@me", self.get_application, True),
            ("GET", "/applications/@me", self.get_application, True),
            ("GET", f"{app}/commands", self.list_commands, True),
            ("PUT", f"{app}/commands", self.overwrite_commands, True),
            ("POST", f"{app}/commands", self.upsert_command, True),
            ("GET", f"{app}/commands/{{command_id}}", self.get_command, True),
            ("PATCH", f"{app}/commands/{{command_id}}", self.edit_command, True),
            ("DELETE", f"{app}/commands/{{command_id}}", self.delete_command, True),
            ("GET", f"{guild_cmds}/commands/permissions", self.list_command_permissions, True),
            ("GET", f"{guild_cmds}/commands", self.list_commands, True),
            ("PUT", f"{guild_cmds}/commands", self.overwrite_commands, True),
            ("POST", f"{guild_cmds}/commands", self.upsert_command, True),
            ("GET", f"{guild_cmds}/commands/{{command_id}}", self.get_command, True),
            ("PATCH", f"{guild_cmds}/commands/{{command_id}}", self.edit_command, True),
            ("DELETE", f"{guild_cmds}/commands/{{command_id}}", self.delete_command, True),
            ("GET", "/guilds/{guild_id}", self.get_guild, True),
            ("GET", "/guilds/{guild_id}/channels", self.get_guild_channels, True),
            ("GET", "/guilds/{guild_id}/roles", self.get_guild_roles, True),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member, True),
            ("GET", "/channels/{channel_id}", self.get_channel, True),
            ("GET", "/channels/{channel_id}/thread-members/{user_id}", self.get_thread_member, True),
            ("POST", "/channels/{channel_id}/typing", self.typing, True),
            ("GET", "/channels/{channel_id}/messages", self.list_messages, True),
            ("POST", "/channels/{channel_id}/messages", self.create_message, True),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message, True),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message, True),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message, True),
            ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self.react, True),
        ]
        for method, template, handler, auth in bot_routes + InteractionRoutes(standin).routes():
            self.routes.append((method, template, compile_route(template), handler, auth))

    # -- plumbing ------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        at = time.monotonic()
        match = API_PREFIX.match(request.path)
        path = match["path"] if match else request.path
        body, files, bad_json = await self._read_body(request)
        found = next(
            (
                (t, m, h, a)
                for meth, t, p, h, a in self.routes
                if meth == request.method and (m := p.match(path))
            ),
            None,
        )
        rec = RecordedRequest(
            method=request.method,
            path=path,
            route=found[0] if found and match else None,
            query=dict(request.query),
            json=body,
            files=files,
            at=at,
            authorized=request.headers.get("Authorization") == f"Bot {self.s.config.bot_token}",
        )
        call = Call(found[1].groupdict() if found else {}, body, files, dict(request.query))
        headers: dict[str, str] = {}
        try:
            if found is None or match is None or int(match["version"]) not in (9, 10):
                raise err.route_not_found()
            if found[3] and not rec.authorized:
                raise err.unauthorized()
            limited = self.s.rate_limits.check(request.method, found[0], call.params, path, found[3])
            headers = limited.headers
            if limited.refusal is not None:
                raise DiscordHTTPError(429, limited.refusal)
            self.s.refusals.check(request.method, path)
            if bad_json:
                raise err.json_error(400, err.INVALID_JSON, "The request body contains invalid JSON.")
            status, payload = await found[2](call)
        except DiscordHTTPError as exc:
            status, payload = exc.status, exc.body
        rec.status, rec.response = status, payload
        self.s.requests.append(rec)
        if call.interaction is not None and status >= 400:
            call.interaction.rejected.append(rec)
        self.s.notifier.changed()
        hold = self.s.holds.matching(rec)
        if hold is not None:
            await hold.released.wait()
            if hold.failure is not None:
                status, payload = hold.failure
                rec.status, rec.response = status, payload
        if status == 204:
            return web.Response(status=204, headers=headers)
        # Exactly "application/json", no charset: discord.py compares the header verbatim.
        body = json.dumps(payload, separators=(",", ":")).encode()
        return web.Response(body=body, status=status, headers={**headers, "Content-Type": "application/json"})

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[Any, Files, bool]:
        if not request.can_read_body:
            return None, [], False
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            files = [
                (name, value.filename, len(value.file.read()), value.content_type)
                for name, value in form.items()
                if isinstance(value, web.FileField)
            ]
            raw = form.get("payload_json")
            try:
                return (json.loads(raw) if isinstance(raw, str) else None), files, False
            except ValueError:
                return None, files, True
        text = await request.text()
        try:
            return (json.loads(text) if text else None), [], False
        except ValueError:
            return None, [], True

    def _channel(self, channel_id: str) -> Channel:
        """The channel, if it exists (else 10003) and the bot can see it (else 50001)."""
        channel = self.s.world.find_channel(int(channel_id)) if channel_id.isdigit() else None
        if channel is None:
            raise err.unknown_channel()
        guild = self.s.world.guild_of(channel)
        if guild is not None and not guild.can_view(self.s.world.bot.id, channel):
            raise err.missing_access()
        if guild is None and not self._bot_perms(channel) & Perm.VIEW_CHANNEL:
            raise err.missing_access()
        return channel

    def _bot_perms(self, channel: Channel) -> int:
        if channel.is_private:  # a group DM the bot is not in
            return 0
        if channel.is_dm:
            return int(Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES | Perm.READ_MESSAGE_HISTORY | Perm.EMBED_LINKS)
        guild = self.s.world.guild_of(channel)
        return guild.channel_permissions(self.s.world.bot.id, channel) if guild is not None else 0

    def _channel_message(self, call: Call) -> tuple[Channel, StoredMessage]:
        channel = self._channel(call.params["channel_id"])
        mid = call.params["message_id"]
        msg = self.s.messages.by_id.get(int(mid)) if mid.isdigit() else None
        if msg is None or msg.channel_id != channel.id or msg.deleted or msg.ephemeral:
            raise err.unknown_message()
        return channel, msg

    # -- gateway, users, application -----------------------------------------------------------

    async def get_gateway(self, call: Call) -> tuple[int, Any]:
        return 200, {"url": self.s.gateway_url}

    async def get_gateway_bot(self, call: Call) -> tuple[int, Any]:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        return 200, {
            "url": self.s.gateway_url,
            "shards": self.s.recommended_shards,
            "session_start_limit": limit,
        }

    async def get_me(self, call: Call) -> tuple[int, Any]:
        bot = self.s.world.bot.payload()
        return 200, {
            **bot,
            "verified": True,
            "mfa_enabled": False,
            "email": None,
            "locale": "en-US",
            "bio": "",
        }

    async def get_user(self, call: Call) -> tuple[int, Any]:
        uid = call.params["user_id"]
        user = self.s.world.users.get(int(uid)) if uid.isdigit() else None
        if user is None:
            raise err.json_error(404, err.UNKNOWN_USER, "Unknown User")
        return 200, user.payload()

    async def create_dm(self, call: Call) -> tuple[int, Any]:
        rid = str((call.json or {}).get("recipient_id", ""))
        user = self.s.world.users.get(int(rid)) if rid.isdigit() else None
        if user is None:
            errors = FormErrors()
            errors.required(("recipient_id",))
            raise errors.exception()
        return 200, self.s.world.channel_payload(self.s.world.dm_channel(user))

    async def get_application(self, call: Call) -> tuple[int, Any]:
        return 200, self.s.world.application_payload(self.s.application_flags)

    # -- application commands ----------------------------------------------------------------

    def _command_bucket(self, call: Call) -> tuple[int | None, list[dict[str, Any]]]:
        if call.params["app_id"] != str(self.s.world.application_id):
            raise err.json_error(403, 50001, "Missing Access")
        guild_id = call.params.get("guild_id")
        if guild_id is not None:
            self._guild(call)
        gid = int(guild_id) if guild_id else None
        return gid, self.s.commands.bucket(gid)

    async def list_commands(self, call: Call) -> tuple[int, Any]:
        return 200, list(self._command_bucket(call)[1])

    async def list_command_permissions(self, call: Call) -> tuple[int, Any]:
        self._command_bucket(call)
        return 200, []

    async def overwrite_commands(self, call: Call) -> tuple[int, Any]:
        gid, _ = self._command_bucket(call)
        if not isinstance(call.json, list):
            errors = FormErrors()
            errors.add((), "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
            raise errors.exception()
        errors = FormErrors()
        check_commands(call.json, errors)
        errors.raise_if_any()
        stored = self.s.commands.overwrite(
            gid, call.json, application_id=self.s.world.application_id, new_id=self.s.new_id
        )
        return 200, stored

    async def upsert_command(self, call: Call) -> tuple[int, Any]:
        gid, bucket = self._command_bucket(call)
        errors = FormErrors()
        check_commands([call.json or {}], errors)
        errors.raise_if_any()
        kind = int(call.json.get("type", 1))
        current = [c for c in bucket if not (c["name"] == call.json["name"] and c["type"] == kind)]
        self.s.commands.overwrite(
            gid, [*current, call.json], application_id=self.s.world.application_id, new_id=self.s.new_id
        )
        found = self.s.commands.find(call.json["name"], gid, kind)
        return 201, found

    def _find_command(self, call: Call) -> tuple[int | None, list[dict[str, Any]], dict[str, Any]]:
        gid, bucket = self._command_bucket(call)
        cmd = next((c for c in bucket if c["id"] == call.params["command_id"]), None)
        if cmd is None:
            raise err.json_error(404, err.UNKNOWN_APPLICATION_COMMAND, "Unknown application command")
        return gid, bucket, cmd

    async def get_command(self, call: Call) -> tuple[int, Any]:
        return 200, self._find_command(call)[2]

    async def edit_command(self, call: Call) -> tuple[int, Any]:
        gid, bucket, cmd = self._find_command(call)
        merged = {**cmd, **(call.json or {})}
        errors = FormErrors()
        check_commands([merged], errors)
        errors.raise_if_any()
        updated = self.s.commands.normalise(merged, self.s.world.application_id, gid, cmd["id"])
        bucket[bucket.index(cmd)] = updated
        return 200, updated

    async def delete_command(self, call: Call) -> tuple[int, Any]:
        _, bucket, cmd = self._find_command(call)
        bucket.remove(cmd)
        return 204, None

    # -- guild and channels -------------------------------------------------------------------

    def _guild(self, call: Call) -> Guild:
        """The guild, if it exists (else 10004) and the bot is in it (else 50001)."""
        gid = call.params["guild_id"]
        guild = self.s.world.guilds.get(int(gid)) if gid.isdigit() else None
        if guild is None:
            raise err.unknown_guild()
        if self.s.world.bot.id not in guild.members:
            raise err.missing_access()
        return guild

    async def get_guild(self, call: Call) -> tuple[int, Any]:
        data = self._guild(call).payload(members=[])
        for key in (
            "members",
            "channels",
            "threads",
            "presences",
            "voice_states",
            "joined_at",
            "large",
            "member_count",
            "stage_instances",
            "guild_scheduled_events",
            "soundboard_sounds",
        ):
            data.pop(key, None)
        return 200, data

    async def get_guild_channels(self, call: Call) -> tuple[int, Any]:
        guild = self._guild(call)
        return 200, [guild.channel_payload(c) for c in guild.channels_and_threads()[0]]

    async def get_guild_roles(self, call: Call) -> tuple[int, Any]:
        return 200, [r.payload() for r in self._guild(call).roles.values()]

    async def get_member(self, call: Call) -> tuple[int, Any]:
        guild = self._guild(call)
        uid = call.params["user_id"]
        member = guild.members.get(int(uid)) if uid.isdigit() else None
        if member is None:
            raise err.json_error(404, 10007, "Unknown Member")
        return 200, member.payload()

    async def get_channel(self, call: Call) -> tuple[int, Any]:
        channel = self._channel(call.params["channel_id"])
        guild = self.s.world.guild_of(channel)
        if guild is None:
            return 200, self.s.world.channel_payload(channel)
        return 200, guild.channel_payload(channel, viewer=self.s.world.bot.id)

    async def get_thread_member(self, call: Call) -> tuple[int, Any]:
        """A member of a thread the bot can see (else 10003 / 50001), or 404 10007 Unknown Member."""
        channel = self._channel(call.params["channel_id"])
        uid = call.params["user_id"]
        if not channel.is_thread or not uid.isdigit() or int(uid) not in channel.member_ids:
            raise err.json_error(404, err.UNKNOWN_MEMBER, "Unknown Member")
        return 200, thread_member_payload(channel, int(uid))

    async def typing(self, call: Call) -> tuple[int, Any]:
        channel = self._channel(call.params["channel_id"])  # 10003 / 50001
        if not self._bot_perms(channel) & channel.send_permission:
            raise err.missing_permissions()
        return 204, None

    async def react(self, call: Call) -> tuple[int, Any]:
        self._channel_message(call)
        return 204, None

    # -- channel messages ----------------------------------------------------------------------

    async def list_messages(self, call: Call) -> tuple[int, Any]:
        channel = self._channel(call.params["channel_id"])
        if not self._bot_perms(channel) & Perm.READ_MESSAGE_HISTORY:
            return 200, []  # Discord shows no history to a bot without Read Message History
        limit = max(1, min(100, int(call.query.get("limit", 50))))
        found = [
            m
            for m in self.s.messages.by_id.values()
            if m.channel_id == channel.id and not m.deleted and not m.ephemeral
        ]
        found.sort(key=lambda m: m.id, reverse=True)
        return 200, [m.payload() for m in found[:limit]]

    async def get_message(self, call: Call) -> tuple[int, Any]:
        return 200, self._channel_message(call)[1].payload()

    async def create_message(self, call: Call) -> tuple[int, Any]:
        channel = self._channel(call.params["channel_id"])
        perms = self._bot_perms(channel)
        if not perms & channel.send_permission:
            raise err.missing_permissions()
        if channel.locked and not perms & Perm.MANAGE_THREADS:
            raise err.thread_archived()
        body = call.json or {}
        if body.get("embeds") and not perms & Perm.EMBED_LINKS:
            body = {**body, "embeds": []}  # dropped; 50006 becomes 50013 below when nothing is left
        try:
            self.s.messages.check_create(body, call.files, FormErrors())
        except DiscordHTTPError as exc:
            if exc.body.get("code") == err.CANNOT_SEND_EMPTY_MESSAGE and (call.json or {}).get("embeds"):
                raise err.missing_permissions() from None
            raise
        earlier = self.s.messages.by_nonce(channel, body)
        if earlier is not None:
            return 200, self.s.messages.payload(earlier)
        reply = False
        ref = body.get("message_reference")
        if ref is not None and channel.guild_id is not None and not perms & Perm.READ_MESSAGE_HISTORY:
            raise err.cannot_reply()
        if ref is not None:
            target = self.s.messages.by_id.get(int(ref.get("message_id", 0) or 0))
            if target is not None and (target.deleted or target.channel_id != channel.id):
                target = None
            if target is None and ref.get("fail_if_not_exists", True):
                errors = FormErrors()
                errors.add(("message_reference",), "REPLIES_UNKNOWN_MESSAGE", "Unknown message")
                errors.raise_if_any()
            reply = target is not None
            if not reply:  # posted as a plain message
                body = {k: v for k, v in body.items() if k != "message_reference"}
        msg = self.s.messages.create(
            channel,
            self.s.world.bot,
            body,
            files=call.files,
            type_=MESSAGE_TYPE_REPLY if reply else 0,
            flags=int(body.get("flags") or 0) & SETTABLE_FLAGS & ~FLAG_EPHEMERAL,
        )
        msg.revisions[0] = copy.deepcopy(call.json or {})  # as sent, dropped embeds included
        if channel.archived:  # not locked, or the bot may manage threads: sending unarchives it
            channel.archived = False
            await self.s.update_thread(channel)
        await self.s.messages.announce(msg, "MESSAGE_CREATE")
        return 200, self.s.messages.payload(msg)

    async def edit_message(self, call: Call) -> tuple[int, Any]:
        _, msg = self._channel_message(call)
        if msg.author_id != self.s.world.bot.id:
            raise err.json_error(
                403, err.CANNOT_EDIT_OTHERS_MESSAGE, "Cannot edit a message authored by another user"
            )
        check_edit(call.json or {})
        self.s.messages.edit(msg, call.json or {}, call.files)
        await self.s.messages.announce(msg, "MESSAGE_UPDATE")
        return 200, msg.payload()

    async def delete_message(self, call: Call) -> tuple[int, Any]:
        channel, msg = self._channel_message(call)
        if msg.author_id != self.s.world.bot.id and not self._bot_perms(channel) & Perm.MANAGE_MESSAGES:
            raise err.missing_permissions()
        self.s.messages.delete(msg)
        await self.s.messages.announce(msg, "MESSAGE_DELETE")
        return 204, None
