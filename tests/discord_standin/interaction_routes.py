"""Interaction routes: the initial-response callback and the interaction webhooks.

Rules (Discord's): the first response must arrive within `interaction_ack_timeout` of dispatch
(else 404 10062 Unknown interaction) and only once (400 40060); the callback type must suit the
interaction type; webhook routes work only after the initial response and until the token
expires (10015 Unknown Webhook before, 401 50027 after); the first followup after a deferred
(type 5) response edits the loading message instead of creating a new one.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from . import errors as err
from .errors import FormErrors
from .messaging import FLAG_EPHEMERAL, FLAG_LOADING, SETTABLE_FLAGS
from .records import InteractionRecord, StoredMessage
from .routing import Call, Route, check_edit
from .validation import check_autocomplete, check_message_body, check_modal

if TYPE_CHECKING:
    from .server import DiscordStandin

# Callback types each interaction type accepts (Discord's docs, "Interaction Callback Type").
CALLBACK_TYPES = {1: {1}, 2: {4, 5, 9, 10, 12}, 3: {4, 5, 6, 7, 9, 10}, 4: {8}, 5: {4, 5, 6, 7}}
MESSAGE_TYPE_REPLY, MESSAGE_TYPE_CHAT_INPUT = 19, 20


class InteractionRoutes:
    def __init__(self, standin: DiscordStandin) -> None:
        self.s = standin

    def routes(self) -> list[Route]:
        hook = "/webhooks/{app_id}/{token}"
        return [
            ("POST", "/interactions/{interaction_id}/{token}/callback", self.callback, False),
            ("GET", f"{hook}/messages/@original", self.get_original, False),
            ("PATCH", f"{hook}/messages/@original", self.edit_original, False),
            ("DELETE", f"{hook}/messages/@original", self.delete_original, False),
            ("POST", hook, self.create_followup, False),
            ("GET", f"{hook}/messages/{{message_id}}", self.get_followup, False),
            ("PATCH", f"{hook}/messages/{{message_id}}", self.edit_followup, False),
            ("DELETE", f"{hook}/messages/{{message_id}}", self.delete_followup, False),
        ]

    async def callback(self, call: Call) -> tuple[int, Any]:
        now = time.monotonic()
        iid = call.params["interaction_id"]
        ix = self.s.interactions.get(int(iid)) if iid.isdigit() else None
        if ix is None or ix.token != call.params["token"]:
            raise err.unknown_interaction()
        call.interaction = ix
        if ix.acknowledged:
            raise err.already_acknowledged()
        if ix.dispatched_at is None or now - ix.dispatched_at > self.s.config.interaction_ack_timeout:
            raise err.unknown_interaction()
        body = call.json if isinstance(call.json, dict) else {}
        kind, data = body.get("type"), body.get("data") or {}
        errors = FormErrors()
        allowed = CALLBACK_TYPES.get(ix.type, set())
        if kind not in allowed:
            errors.add(("type",), "BASE_TYPE_CHOICES", f"Value must be one of {sorted(allowed)}.")
        errors.raise_if_any()
        if kind == 4:
            self.s.messages.check_create(data, call.files, errors, ("data",))
        elif kind == 7:
            check_message_body(data, errors, ("data",))
        elif kind == 8:
            check_autocomplete(data, errors)
        elif kind == 9:
            check_modal(data, errors)
        errors.raise_if_any()

        source = self.s.messages.by_id.get(ix.source_message_id) if ix.source_message_id else None
        message: StoredMessage | None = None
        if kind in (4, 5):
            flags = int(data.get("flags") or 0) & SETTABLE_FLAGS
            if kind == 5:
                flags = FLAG_LOADING | (flags & FLAG_EPHEMERAL)
            message = self._interaction_message(ix, data if kind == 4 else {}, call.files, flags)
            ix.original_message_id = message.id
        elif kind in (6, 7) and source is not None:
            ix.original_message_id = source.id
            if kind == 7:
                self.s.messages.edit(source, data, call.files)
                message = source
        elif kind == 8:
            ix.autocomplete_choices = list(data.get("choices") or [])
        elif kind == 9:
            ix.modal = data
        ix.callback_type, ix.callback_body, ix.callback_at = kind, body, now
        ix.record_event("update" if kind == 7 else "callback", message.id if message else None, body)
        if message is not None:
            await self.s.messages.announce(message, "MESSAGE_UPDATE" if kind == 7 else "MESSAGE_CREATE")
        self.s.notifier.changed()
        if call.query.get("with_response", "").lower() not in ("1", "true"):
            return 204, None
        callback: dict[str, Any] = {"id": str(ix.id), "type": ix.type}
        if message is not None:
            callback.update(
                response_message_id=str(message.id),
                response_message_loading=message.loading,
                response_message_ephemeral=message.ephemeral,
            )
        result: dict[str, Any] = {"interaction": callback}
        if kind in (4, 5, 6, 7):
            result["resource"] = {"type": kind}
            if kind in (4, 7) and message is not None:
                result["resource"]["message"] = message.payload()
        return 200, result

    def _interaction_message(
        self, ix: InteractionRecord, body: dict[str, Any], files: list[Any], flags: int
    ) -> StoredMessage:
        channel = self.s.world.find_channel(ix.channel_id)
        assert channel is not None
        user = ix.payload["member"]["user"] if "member" in ix.payload else ix.payload["user"]
        metadata: dict[str, Any] = {
            "id": str(ix.id),
            "type": ix.type,
            "user": user,
            "authorizing_integration_owners": ix.payload.get("authorizing_integration_owners", {}),
        }
        if ix.type == 2:
            metadata["name"] = ix.payload["data"]["name"]
            metadata["command_type"] = ix.payload["data"].get("type", 1)
        elif ix.source_message_id is not None:
            metadata["interacted_message_id"] = str(ix.source_message_id)
        return self.s.messages.create(
            channel,
            self.s.world.bot,
            body,
            files=files,
            type_=MESSAGE_TYPE_CHAT_INPUT if ix.type == 2 else MESSAGE_TYPE_REPLY,
            flags=flags,
            interaction_id=ix.id,
            interaction_metadata=metadata,
            webhook=True,
        )

    def _webhook_interaction(self, call: Call) -> InteractionRecord:
        if call.params["app_id"] != str(self.s.world.application_id):
            raise err.unknown_webhook()
        ix = self.s.interactions_by_token.get(call.params["token"])
        if ix is None:
            raise err.unknown_webhook()
        call.interaction = ix
        if not ix.acknowledged:
            raise err.unknown_webhook()
        assert ix.dispatched_at is not None
        if time.monotonic() - ix.dispatched_at > self.s.config.interaction_token_ttl:
            raise err.invalid_webhook_token()
        return ix

    def _owned_message(self, ix: InteractionRecord, message_id: str) -> StoredMessage:
        if message_id == "@original":
            msg = ix.original
        elif message_id.isdigit() and (
            int(message_id) in ix.followup_ids or int(message_id) == ix.original_message_id
        ):
            msg = self.s.messages.by_id[int(message_id)]
        else:
            msg = None
        if msg is None or msg.deleted:
            raise err.unknown_message()
        return msg

    async def get_original(self, call: Call) -> tuple[int, Any]:
        ix = self._webhook_interaction(call)
        return 200, self._owned_message(ix, "@original").payload()

    async def edit_original(self, call: Call) -> tuple[int, Any]:
        return await self._edit_owned(call, "@original", "edit")

    async def delete_original(self, call: Call) -> tuple[int, Any]:
        return await self._delete_owned(call, "@original")

    async def get_followup(self, call: Call) -> tuple[int, Any]:
        ix = self._webhook_interaction(call)
        return 200, self._owned_message(ix, call.params["message_id"]).payload()

    async def edit_followup(self, call: Call) -> tuple[int, Any]:
        return await self._edit_owned(call, call.params["message_id"], "followup_edit")

    async def delete_followup(self, call: Call) -> tuple[int, Any]:
        return await self._delete_owned(call, call.params["message_id"])

    async def _edit_owned(self, call: Call, message_id: str, kind: str) -> tuple[int, Any]:
        ix = self._webhook_interaction(call)
        msg = self._owned_message(ix, message_id)
        body = call.json or {}
        check_edit(body)
        self.s.messages.edit(msg, body, call.files)
        ix.record_event(kind, msg.id, body)
        await self.s.messages.announce(msg, "MESSAGE_UPDATE")
        return 200, msg.payload()

    async def _delete_owned(self, call: Call, message_id: str) -> tuple[int, Any]:
        ix = self._webhook_interaction(call)
        msg = self._owned_message(ix, message_id)
        self.s.messages.delete(msg)
        ix.record_event("delete", msg.id, None)
        await self.s.messages.announce(msg, "MESSAGE_DELETE")
        return 204, None

    async def create_followup(self, call: Call) -> tuple[int, Any]:
        ix = self._webhook_interaction(call)
        body = call.json or {}
        original = ix.original
        if ix.callback_type == 5 and original is not None and original.loading and not original.deleted:
            # Discord: the first followup after a deferred response edits the loading message,
            # keeping the ephemeral state chosen at defer time.
            check_edit(body)
            self.s.messages.check_create(body, call.files, FormErrors())
            self.s.messages.edit(original, {k: v for k, v in body.items() if k != "flags"}, call.files)
            ix.record_event("followup", original.id, body)
            await self.s.messages.announce(original, "MESSAGE_UPDATE")
            return 200, original.payload()
        self.s.messages.check_create(body, call.files, FormErrors())
        message = self._interaction_message(
            ix, body, call.files, int(body.get("flags") or 0) & SETTABLE_FLAGS
        )
        ix.followup_ids.append(message.id)
        ix.record_event("followup", message.id, body)
        await self.s.messages.announce(message, "MESSAGE_CREATE")
        return 200, message.payload()
