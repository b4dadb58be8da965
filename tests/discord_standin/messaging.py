"""Creating, editing and announcing messages: shared by REST handlers and the test-side helpers.

Announcing follows Discord: non-ephemeral messages are dispatched to the bot as MESSAGE_CREATE /
MESSAGE_UPDATE / MESSAGE_DELETE when its intents ask for them (GUILD_MESSAGES, DIRECT_MESSAGES),
and without MESSAGE_CONTENT the bot receives other users' guild messages with empty content
unless they mention it.
"""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any

from . import errors as err
from .gateway import INTENT_DIRECT_MESSAGES, INTENT_GUILD_MESSAGES, INTENT_MESSAGE_CONTENT, Session
from .mentions import would_ping
from .records import FLAG_EPHEMERAL, FLAG_LOADING, StoredMessage
from .snowflakes import iso_now
from .world import Channel, Perm, User

if TYPE_CHECKING:
    from .server import DiscordStandin

FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15
# Flags a sender may set on a new message / an interaction response.
SETTABLE_FLAGS = (
    FLAG_SUPPRESS_EMBEDS | FLAG_EPHEMERAL | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2 | 1 << 13
)
EDITABLE_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_COMPONENTS_V2


def is_empty(
    content: str, embeds: list[Any], components: list[Any], attachments: list[Any], body: dict
) -> bool:
    return not (
        content.strip() or embeds or components or attachments or body.get("sticker_ids") or body.get("poll")
    )


class Messages:
    """The message store plus the rules for writing to it."""

    def __init__(self, standin: DiscordStandin) -> None:
        self.standin = standin
        self.by_id: dict[int, StoredMessage] = {}

    # -- building ------------------------------------------------------------------------

    def _attachments(
        self, body: dict[str, Any], files: list[tuple[str, str, int, str]], channel_id: int, keep: list[dict]
    ) -> list[dict[str, Any]]:
        """Attachment objects: kept existing ones (by id) plus uploaded `files[n]`."""
        existing = {a["id"]: a for a in keep}
        uploads = {field: (name, size, ctype) for field, name, size, ctype in files}
        result: list[dict[str, Any]] = []
        described = body.get("attachments")
        if described is None:
            described = [{"id": i} for i in range(len(files))] if files else [{"id": a["id"]} for a in keep]
        for entry in described:
            key = str(entry.get("id"))
            if key in existing:
                result.append(existing[key])
                continue
            upload = uploads.get(f"files[{key}]")
            if upload is None:
                continue
            name, size, ctype = upload
            att_id = self.standin.new_id()
            url = f"{self.standin.http_url}/attachments/{channel_id}/{att_id}/{entry.get('filename') or name}"
            result.append(
                {
                    "id": str(att_id),
                    "filename": entry.get("filename") or name,
                    "size": size,
                    "url": url,
                    "proxy_url": url,
                    "content_type": ctype,
                    **({"description": entry["description"]} if entry.get("description") else {}),
                }
            )
        return result

    def _mention_fields(self, msg: StoredMessage, body: dict[str, Any], sender_perms: int) -> None:
        """`mentions` as Discord fills them: the users named in the content and, for a reply that
        pings (a user's client does by default), the replied-to author."""
        ref = body.get("message_reference") or {}
        pings = would_ping({**body, "content": msg.content}, is_reply=bool(ref) and ref.get("type", 0) == 0)
        mentioned = set(pings.users)
        replied = self.by_id.get(int(ref.get("message_id") or 0)) if pings.replied_user else None
        if replied is not None:
            mentioned.add(replied.author_id)
        users = self.standin.world.users
        msg.mentions = [users[u].payload() for u in sorted(mentioned) if u in users]
        msg.mention_roles = [str(r) for r in sorted(pings.roles)]
        msg.mention_everyone = pings.everyone and bool(sender_perms & Perm.MENTION_EVERYONE)

    def create(
        self,
        channel: Channel,
        author: User,
        body: dict[str, Any],
        *,
        files: list[tuple[str, str, int, str]] | None = None,
        type_: int = 0,
        flags: int | None = None,
        interaction_id: int | None = None,
        interaction_metadata: dict[str, Any] | None = None,
        webhook: bool = False,
    ) -> StoredMessage:
        """Store a new message built from a (validated) create body."""
        world = self.standin.world
        guild = world.guild_of(channel)
        guild_id = guild.id if guild is not None else None
        msg = StoredMessage(
            id=self.standin.new_id(),
            channel_id=channel.id,
            guild_id=guild_id,
            author=author.payload(),
            content=str(body.get("content") or ""),
            embeds=[{"type": "rich", **e} for e in body.get("embeds") or []],
            components=copy.deepcopy(body.get("components") or []),
            flags=(int(body.get("flags") or 0) & SETTABLE_FLAGS) if flags is None else flags,
            allowed_mentions=body.get("allowed_mentions"),
            message_reference=body.get("message_reference"),
            interaction_id=interaction_id,
            interaction_metadata=interaction_metadata,
            webhook_id=world.application_id if webhook else None,
            application_id=world.application_id if webhook else None,
            type=type_,
            timestamp=iso_now(),
            tts=bool(body.get("tts")),
            nonce=str(body["nonce"]) if body.get("nonce") is not None else None,
            revisions=[copy.deepcopy(body)],
        )
        msg.attachments = self._attachments(body, files or [], channel.id, [])
        if guild is not None and author.id in guild.members:
            msg.member = guild.members[author.id].payload(with_user=False)
        perms = guild.channel_permissions(author.id, channel) if guild is not None else Perm.MENTION_EVERYONE
        self._mention_fields(msg, body, perms)
        if msg.message_reference is not None:
            ref = {
                k: str(v) if k.endswith("_id") and v is not None else v
                for k, v in msg.message_reference.items()
            }
            ref.pop("fail_if_not_exists", None)
            msg.message_reference = {
                "type": 0,
                "channel_id": str(channel.id),
                **({"guild_id": str(guild_id)} if guild_id else {}),
                **ref,
            }
        self.by_id[msg.id] = msg
        self.standin.notifier.changed()
        return msg

    def by_nonce(self, channel: Channel, body: dict[str, Any]) -> StoredMessage | None:
        """With `enforce_nonce`, the message the bot already sent in `channel` with this `nonce`
        within `nonce_window_s` (Discord: "the past few minutes"): Discord returns it instead of
        creating another, which makes a retried send idempotent."""
        nonce = body.get("nonce")
        if not body.get("enforce_nonce") or nonce is None:
            return None
        horizon = time.monotonic() - self.standin.config.nonce_window_s
        bot_id = self.standin.world.bot.id
        for msg in reversed(self.by_id.values()):
            if msg.created_at < horizon:
                break
            if msg.channel_id == channel.id and msg.author_id == bot_id and msg.nonce == str(nonce):
                return msg
        return None

    def check_create(self, body: dict[str, Any], files: list[Any], errors: Any, path: tuple = ()) -> None:
        """Raise 50035 for field errors, then 50006 for an empty message."""
        from .validation import check_message_body

        check_message_body(body, errors, path)
        errors.raise_if_any()
        content = str(body.get("content") or "")
        if is_empty(content, body.get("embeds") or [], body.get("components") or [], files, body):
            raise err.empty_message()

    def edit(self, msg: StoredMessage, body: dict[str, Any], files: list[tuple[str, str, int, str]]) -> None:
        """Apply an edit body (already field-validated); 50006 if the result would be empty."""
        content = str(body["content"] or "") if "content" in body else msg.content
        embeds = [{"type": "rich", **e} for e in body["embeds"] or []] if "embeds" in body else msg.embeds
        components = copy.deepcopy(body["components"] or []) if "components" in body else msg.components
        if "attachments" in body or files:
            attachments = self._attachments(body, files, msg.channel_id, msg.attachments)
        else:
            attachments = msg.attachments
        if is_empty(content, embeds, components, attachments, body):
            raise err.empty_message()
        was_loading = msg.loading
        msg.content, msg.embeds, msg.components, msg.attachments = content, embeds, components, attachments
        if "flags" in body and body["flags"] is not None:
            msg.flags = (msg.flags & ~EDITABLE_FLAGS) | (int(body["flags"]) & EDITABLE_FLAGS)
        msg.flags &= ~FLAG_LOADING
        if "allowed_mentions" in body:
            msg.allowed_mentions = body["allowed_mentions"]
        if not was_loading:
            msg.edited_timestamp = iso_now()
        sender_perms = int(Perm.MENTION_EVERYONE)
        if msg.guild_id is not None:
            channel = self.standin.world.find_channel(msg.channel_id)
            guild = self.standin.world.guilds.get(msg.guild_id)
            if channel is not None and guild is not None and msg.author_id in guild.members:
                sender_perms = guild.channel_permissions(msg.author_id, channel)
        self._mention_fields(msg, body, sender_perms)
        msg.revisions.append(copy.deepcopy(body))
        msg.updated_at = time.monotonic()
        self.standin.notifier.changed()

    def delete(self, msg: StoredMessage) -> None:
        msg.deleted = True
        msg.updated_at = time.monotonic()
        self.standin.notifier.changed()

    def payload(self, msg: StoredMessage) -> dict[str, Any]:
        """The message object, with `referenced_message` for replies as Discord includes it."""
        data = msg.payload()
        if msg.message_reference is not None:
            target = self.by_id.get(int(msg.message_reference.get("message_id") or 0))
            data["referenced_message"] = None if target is None or target.deleted else target.payload()
        return data

    # -- telling the bot -------------------------------------------------------------------

    def _mentions_bot_role(self, msg: StoredMessage) -> bool:
        """Whether `msg` mentions the bot's managed role of its guild."""
        world = self.standin.world
        guild = world.guilds.get(msg.guild_id) if msg.guild_id is not None else None
        if guild is None:
            return False
        return any(str(r.id) in msg.mention_roles for r in guild.roles.values() if r.bot_id == world.bot.id)

    async def announce(self, msg: StoredMessage, event: str) -> None:
        """Dispatch MESSAGE_CREATE/UPDATE/DELETE for `msg` if Discord would send it to the bot:
        to each session that gets its guild's events (`Gateway.sessions_for`)."""
        for session in self.standin.gateway.sessions_for(msg.guild_id):
            await self._announce_to(session, msg, event)

    async def _announce_to(self, session: Session, msg: StoredMessage, event: str) -> None:
        gateway = self.standin.gateway
        if msg.ephemeral:
            return
        if msg.channel_id in self.standin.world.private_channels:  # a group DM the bot is not in
            return
        needed = INTENT_DIRECT_MESSAGES if msg.guild_id is None else INTENT_GUILD_MESSAGES
        if not session.intents & needed:
            return
        if event == "MESSAGE_DELETE":
            data: dict[str, Any] = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id is not None:
                data["guild_id"] = str(msg.guild_id)
            await gateway.dispatch(event, data, session=session)
            return
        data = self.payload(msg)
        bot_id = self.standin.world.bot.id
        content_visible = (
            msg.guild_id is None
            or session.intents & INTENT_MESSAGE_CONTENT
            or msg.author_id == bot_id
            or any(int(u["id"]) == bot_id for u in msg.mentions)
            or (self.standin.config.role_mention_shows_content and self._mentions_bot_role(msg))
        )
        if not content_visible:
            for part in (data, *(s["message"] for s in data.get("message_snapshots", []))):
                part.update(content="", embeds=[], attachments=[], components=[])
        await gateway.dispatch(event, data, session=session)
