"""What users do, from the test's side: invoke commands, click, submit modals, post messages.

`UserActions` is mixed into `DiscordStandin`. Each helper builds the INTERACTION_CREATE or
MESSAGE_CREATE payload Discord would send (ids, token, member with permissions or DM user,
`app_permissions`, resolved data), refuses what Discord's client would not let a user send
(`StandinUsageError`), dispatches it, and returns the record to inspect and wait on.

Where the app is used: `context` 0 in a guild channel, 1 in the user's DM with the bot, 2 in a
group DM of users without the bot (`world.private_channel(...)`), where only a user-installed
app reaches (`installed="user"`, implied there). `authorizing_integration_owners` says which
installation authorized it; a command is offered only in its registered `contexts` and, for a
user installation, only when its `integration_types` include 1 (user install).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .commands import CommandRegistry, build_command_data
from .errors import StandinUsageError
from .records import FLAG_HAS_SNAPSHOT, InteractionRecord, Notifier, StoredMessage
from .snowflakes import SnowflakeFactory, interaction_token
from .world import BOT_DM_APP_PERMISSIONS, USER_APP_PERMISSIONS, Channel, Guild, Perm, Role, User, World

if TYPE_CHECKING:
    from .gateway import Gateway
    from .messaging import Messages
    from .server import StandinConfig

# `permissions` of a channel in an option's `resolved` data (the invoking member's view).
RESOLVED_CHANNEL_PERMS = int(Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES | Perm.READ_MESSAGE_HISTORY)
INTERACTION_PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
GUILD_INSTALL, USER_INSTALL = "guild", "user"
CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3


def context_of(channel: Channel) -> int:
    """Discord's interaction context type: 0 guild, 1 the bot's DM, 2 a private channel."""
    return 2 if channel.is_private else 1 if channel.is_dm else 0


class UserActions:
    """Test-side helpers; `DiscordStandin` provides the state they use."""

    if TYPE_CHECKING:
        config: StandinConfig
        world: World
        new_id: SnowflakeFactory
        notifier: Notifier
        commands: CommandRegistry
        messages: Messages
        gateway: Gateway
        interactions: dict[int, InteractionRecord]
        interactions_by_token: dict[str, InteractionRecord]

        @property
        def guild(self) -> Guild: ...

    def _where(self, user: User | None, channel: Channel | None, dm: bool) -> tuple[User, Channel]:
        user = user or self.world.user
        if dm:
            channel = self.world.dm_channel(user)
        channel = channel or self.world.general
        guild = self.world.guild_of(channel)
        if guild is not None and user.id not in guild.members:
            raise StandinUsageError(f"{user.username} is not a member of {guild.name}")
        if channel.is_private and user.id not in channel.recipient_ids:
            raise StandinUsageError(f"{user.username} is not in that group DM")
        return user, channel

    def _guild_of(self, channel: Channel) -> Guild:
        guild = self.world.guild_of(channel)
        if guild is None:
            raise StandinUsageError(f"channel {channel.id} is not a guild channel")
        return guild

    async def send_interaction(
        self,
        interaction_type: int,
        data: dict[str, Any] | None,
        *,
        user: User | None = None,
        channel: Channel | None = None,
        dm: bool = False,
        message: StoredMessage | None = None,
        permissions: int | None = None,
        app_permissions: int | None = None,
        locale: str = "en-US",
        installed: str = GUILD_INSTALL,
    ) -> InteractionRecord:
        """Dispatch an INTERACTION_CREATE shaped like Discord's and start tracking it.

        In a guild channel the payload carries `member` (with `permissions` computed from roles
        and overwrites, or `permissions` if given); in a DM (`dm=True` or a DM channel) or a
        group DM it carries `user`. `app_permissions` defaults to the bot's permissions in the
        channel (in a group DM, what Discord grants a user-installed app). `installed` is the
        installation that authorizes it ("guild" or "user"; a group DM has only "user").
        """
        user, channel = self._where(user, channel, dm)
        iid = self.new_id()
        world = self.world
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(world.application_id),
            "type": interaction_type,
            "token": interaction_token(iid),
            "version": 1,
            "channel": world.channel_payload(channel),
            "channel_id": str(channel.id),
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": self.config.attachment_size_limit,
        }
        if data is not None:
            payload["data"] = data
        if channel.is_dm:
            payload["user"] = user.payload()
            granted = USER_APP_PERMISSIONS if channel.is_private else BOT_DM_APP_PERMISSIONS
            payload["app_permissions"] = str(granted if app_permissions is None else app_permissions)
            payload["context"] = context_of(channel)
            if channel.is_private or installed == USER_INSTALL:
                payload["authorizing_integration_owners"] = {"1": str(user.id)}
            else:
                payload["authorizing_integration_owners"] = {"0": "0"}
        else:
            guild = self._guild_of(channel)
            member_perms = guild.channel_permissions(user.id, channel) if permissions is None else permissions
            bot_perms = (
                guild.channel_permissions(world.bot.id, channel)
                if app_permissions is None
                else app_permissions
            )
            payload["channel"]["permissions"] = str(member_perms)
            payload["guild_id"] = str(guild.id)
            payload["guild"] = {"id": str(guild.id), "locale": guild.preferred_locale, "features": []}
            payload["guild_locale"] = guild.preferred_locale
            payload["member"] = {**guild.members[user.id].payload(), "permissions": str(member_perms)}
            payload["app_permissions"] = str(bot_perms)
            payload["context"] = 0
            owner = "1" if installed == USER_INSTALL else "0"
            payload["authorizing_integration_owners"] = {owner: str(user.id if owner == "1" else guild.id)}
        if message is not None:
            payload["message"] = message.payload()
        record = InteractionRecord(
            payload=payload,
            messages=self.messages.by_id,
            notifier=self.notifier,
            source_message_id=message.id if message is not None else None,
        )
        # Registered before sending: the bot may answer before `dispatch` returns.
        self.interactions[iid] = record
        self.interactions_by_token[record.token] = record
        record.dispatched_at = time.monotonic()
        try:
            await self.gateway.dispatch_for(channel.guild_id, "INTERACTION_CREATE", payload)
        except BaseException:
            del self.interactions[iid], self.interactions_by_token[record.token]
            raise
        return record

    def _command_data(
        self,
        command: str,
        options: Mapping[str, Any] | None,
        *,
        user: User,
        channel: Channel,
        focused: str | None,
        permissions: int | None,
        force: bool,
        locale: str | None = None,
        installed: str = GUILD_INSTALL,
    ) -> dict[str, Any]:
        name = command.strip().lstrip("/").split()[0]
        guild_id = channel.guild_id
        registered = self.commands.find(name, guild_id, locale=locale)
        if registered is None and any(
            c["name"] == name for bucket in self.commands.guild_commands.values() for c in bucket
        ):
            where = "in DMs" if channel.is_dm else "in this guild"
            raise StandinUsageError(
                f"/{name} is registered only as another guild's command; not offered {where}"
            )
        if registered is None and self.config.strict_commands:
            raise StandinUsageError(f"/{name} was never registered (strict_commands=True)")
        if registered is not None and not force:
            self._check_command_access(registered, user, channel, permissions, installed)
        command_id = registered["id"] if registered else str(self.new_id())
        return build_command_data(
            command,
            dict(options or {}),
            registered,
            focused=focused,
            command_id=command_id,
            resolve=lambda value, resolved: self._resolve(value, resolved, self.world.guild_of(channel)),
            locale=locale,
        )

    def _check_command_access(
        self,
        registered: dict[str, Any],
        user: User,
        channel: Channel,
        permissions: int | None,
        installed: str = GUILD_INSTALL,
    ) -> None:
        """What Discord's client enforces before a user can even submit the command."""
        name = registered["name"]
        if (installed == USER_INSTALL or channel.is_private) and 1 not in (
            registered.get("integration_types") or [0]
        ):
            raise StandinUsageError(
                f"/{name} is not installable by users (integration_types); Discord does not offer it where "
                "only a user installed the app (pass force=True to send anyway)"
            )
        context, contexts = context_of(channel), registered.get("contexts")
        if (contexts is not None and context not in contexts) or (
            channel.is_dm and registered.get("dm_permission") is False
        ):
            where = ("in servers", "in DMs", "in group DMs")[context]
            raise StandinUsageError(f"/{name} is not available {where} (pass force=True to send anyway)")
        if channel.is_dm:
            return
        required = registered.get("default_member_permissions")
        if required is None:
            return
        guild = self._guild_of(channel)
        have = guild.channel_permissions(user.id, channel) if permissions is None else permissions
        if not have & Perm.ADMINISTRATOR and int(required) & ~have:
            raise StandinUsageError(
                f"{user.username} lacks default_member_permissions={required} for /{name}; Discord hides the "
                "command from them (pass force=True to send anyway)"
            )

    def _resolve(self, value: Any, resolved: dict[str, dict[str, Any]], guild: Guild | None) -> str:
        """Add a user/role/channel option value to `resolved` and return its id."""
        if isinstance(value, User):
            resolved.setdefault("users", {})[str(value.id)] = value.payload()
            member = guild.members.get(value.id) if guild is not None else None
            if member is not None:
                resolved.setdefault("members", {})[str(value.id)] = {
                    **member.payload(with_user=False),
                    "permissions": str(guild.base_permissions(value.id)) if guild else "0",
                }
            return str(value.id)
        if isinstance(value, Role):
            resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            return str(value.id)
        if isinstance(value, Channel):
            resolved.setdefault("channels", {})[str(value.id)] = {
                **self.world.channel_payload(value),
                "permissions": str(RESOLVED_CHANNEL_PERMS),
            }
            return str(value.id)
        raise StandinUsageError(f"pass a User, Role or Channel for this option, not {value!r}")

    async def send_slash_command(
        self,
        command: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: User | None = None,
        channel: Channel | None = None,
        dm: bool = False,
        permissions: int | None = None,
        app_permissions: int | None = None,
        locale: str = "en-US",
        force: bool = False,
        installed: str = GUILD_INSTALL,
    ) -> InteractionRecord:
        """Invoke `/command` (e.g. `"ask"`, `"admin reindex"`) with option values by name.

        If the bot registered the command, its id, `guild_id`, option types and constraints are
        used, and Discord's client-side rules apply (required options, choices, ranges,
        default_member_permissions, DM availability); `force=True` skips the access rules. A
        user of `locale` may use the command's names localized for it.
        """
        user, channel = self._where(user, channel, dm)
        data = self._command_data(
            command,
            options,
            user=user,
            channel=channel,
            focused=None,
            permissions=permissions,
            force=force,
            locale=locale,
            installed=installed,
        )
        return await self.send_interaction(
            APPLICATION_COMMAND,
            data,
            user=user,
            channel=channel,
            permissions=permissions,
            app_permissions=app_permissions,
            locale=locale,
            installed=installed,
        )

    async def send_message_command(
        self,
        message: StoredMessage | int,
        name: str,
        *,
        user: User | None = None,
        locale: str = "en-US",
        installed: str = GUILD_INSTALL,
        force: bool = False,
    ) -> InteractionRecord:
        """A user picks the message command `name` (right-click → Apps) on `message`.

        The command must be registered (type 3) and offered where the message is (`contexts`,
        `integration_types`, as for slash commands; a user of `locale` may use its localized
        name). The target message, text included, is in `data.resolved.messages`, as Discord
        sends it whatever the bot's intents.
        """
        msg = message if isinstance(message, StoredMessage) else self.messages.by_id[message]
        world = self.world
        channel = world.find_channel(msg.channel_id)
        user, channel = self._where(user, channel, False)
        registered = self.commands.find(name, channel.guild_id, MESSAGE_COMMAND, locale)
        if registered is None:
            raise StandinUsageError(f"no message command {name!r} is registered")
        if not force:
            self._check_command_access(registered, user, channel, None, installed)
        data: dict[str, Any] = {
            "id": registered["id"],
            "name": registered["name"],
            "type": MESSAGE_COMMAND,
            "target_id": str(msg.id),
            "resolved": {"messages": {str(msg.id): self.messages.payload(msg)}},
        }
        if "guild_id" in registered:
            data["guild_id"] = registered["guild_id"]
        return await self.send_interaction(
            APPLICATION_COMMAND, data, user=user, channel=channel, locale=locale, installed=installed
        )

    async def send_autocomplete(
        self,
        command: str,
        options: Mapping[str, Any],
        *,
        focused: str,
        user: User | None = None,
        channel: Channel | None = None,
        dm: bool = False,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Type 4: the user is typing into option `focused` (its value is sent as a string)."""
        user, channel = self._where(user, channel, dm)
        data = self._command_data(
            command,
            options,
            user=user,
            channel=channel,
            focused=focused,
            permissions=None,
            force=True,
            locale=locale,
        )
        return await self.send_interaction(AUTOCOMPLETE, data, user=user, channel=channel, locale=locale)

    def _clickable(
        self, message: StoredMessage | int, custom_id: str | None, label: str | None
    ) -> tuple[StoredMessage, dict[str, Any]]:
        msg = message if isinstance(message, StoredMessage) else self.messages.by_id[message]
        if msg.deleted:
            raise StandinUsageError(f"message {msg.id} was deleted")
        comp = msg.find_component(custom_id=custom_id, label=label)
        if comp is None:
            raise StandinUsageError(
                f"message {msg.id} has no component custom_id={custom_id!r} label={label!r}; it has "
                f"{[(c.get('custom_id'), c.get('label')) for c in msg.iter_components()]}"
            )
        if comp.get("disabled"):
            raise StandinUsageError(
                f"component {comp.get('custom_id')!r} is disabled; Discord would not send it"
            )
        return msg, comp

    async def click_button(
        self,
        message: StoredMessage | int,
        *,
        custom_id: str | None = None,
        label: str | None = None,
        user: User | None = None,
        permissions: int | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Type 3: click a button the bot put on `message` (found by custom_id and/or label)."""
        msg, comp = self._clickable(message, custom_id, label)
        if comp.get("type") != 2 or comp.get("style") == 5 or not comp.get("custom_id"):
            raise StandinUsageError("only buttons with a custom_id (not link buttons) send interactions")
        channel = self.world.find_channel(msg.channel_id)
        data = {"custom_id": comp["custom_id"], "component_type": 2}
        return await self.send_interaction(
            MESSAGE_COMPONENT,
            data,
            user=user,
            channel=channel,
            message=msg,
            permissions=permissions,
            locale=locale,
        )

    async def select_options(
        self,
        message: StoredMessage | int,
        values: list[str],
        *,
        custom_id: str | None = None,
        user: User | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Type 3 for a string select: choose `values` (must be among its options)."""
        msg, comp = self._clickable(message, custom_id, None)
        if comp.get("type") != 3:
            raise StandinUsageError("select_options works on string selects (component type 3)")
        offered = {o["value"] for o in comp.get("options") or []}
        if not set(values) <= offered:
            raise StandinUsageError(f"values {sorted(set(values) - offered)} are not options of the select")
        channel = self.world.find_channel(msg.channel_id)
        data = {"custom_id": comp["custom_id"], "component_type": 3, "values": list(values)}
        return await self.send_interaction(
            MESSAGE_COMPONENT, data, user=user, channel=channel, message=msg, locale=locale
        )

    async def submit_modal(
        self, opened_by: InteractionRecord, values: Mapping[str, str], *, user: User | None = None
    ) -> InteractionRecord:
        """Type 5: submit the modal the bot opened (callback type 9) with text input values by custom_id."""
        if opened_by.modal is None:
            raise StandinUsageError(f"interaction {opened_by.id} did not open a modal")
        inputs = []
        for row in opened_by.modal.get("components") or []:
            children = row.get("components") or ([row["component"]] if "component" in row else [])
            for comp in children:
                if comp.get("type") == 4:
                    inputs.append(comp["custom_id"])
        unknown = set(values) - set(inputs)
        if unknown:
            raise StandinUsageError(f"modal has no text inputs {sorted(unknown)}; it has {inputs}")
        components = [
            {"type": 1, "components": [{"type": 4, "custom_id": cid, "value": values.get(cid, "")}]}
            for cid in inputs
        ]
        data = {"custom_id": opened_by.modal["custom_id"], "components": components}
        channel = self.world.find_channel(opened_by.channel_id)
        users = self.world.users
        source = self.messages.by_id.get(opened_by.source_message_id) if opened_by.source_message_id else None
        return await self.send_interaction(
            MODAL_SUBMIT, data, user=user or users[opened_by.user_id], channel=channel, message=source
        )

    # -- users writing messages ----------------------------------------------------------------

    async def send_message(
        self,
        content: str,
        *,
        author: User | None = None,
        channel: Channel | None = None,
        dm: bool = False,
        reply_to: StoredMessage | None = None,
        embeds: list[dict[str, Any]] | None = None,
    ) -> StoredMessage:
        """A user posts a message: stored, then dispatched as MESSAGE_CREATE (intents permitting).

        Mentions (`<@id>`, `<@&id>`, @everyone) are parsed from `content` like Discord does;
        use `standin.bot.mention` to address the bot. A reply pings the author of `reply_to` (a
        client's default), who is then in `mentions` too.
        """
        author, channel = self._where(author, channel, dm)
        body: dict[str, Any] = {"content": content, "embeds": embeds or []}
        if reply_to is not None:
            body["message_reference"] = {
                "message_id": str(reply_to.id),
                "channel_id": str(reply_to.channel_id),
            }
        msg = self.messages.create(channel, author, body, type_=19 if reply_to else 0)
        await self.messages.announce(msg, "MESSAGE_CREATE")
        return msg

    async def forward_message(
        self, message: StoredMessage, *, author: User | None = None, channel: Channel | None = None
    ) -> StoredMessage:
        """A user forwards `message` (to #general by default): a message with no content of its
        own and the forwarded one's in `message_snapshots`, as Discord sends it."""
        author, channel = self._where(author, channel, False)
        ref = {"type": 1, "message_id": str(message.id), "channel_id": str(message.channel_id)}
        msg = self.messages.create(channel, author, {"message_reference": ref}, flags=FLAG_HAS_SNAPSHOT)
        msg.message_snapshots = [message.snapshot()]
        await self.messages.announce(msg, "MESSAGE_CREATE")
        return msg
