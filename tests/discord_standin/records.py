"""What the stand-in remembers: REST requests, heartbeats, messages with their edits, interactions.

All of it lives on the test's event loop and is mutated only by the stand-in; tests read it and
wait on it with `Notifier.wait_until`, which re-checks a condition whenever the stand-in changes
anything (and every few milliseconds, for conditions about the client's own state).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .mentions import Pings, mentions_suppressed, would_ping

FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_HAS_SNAPSHOT = 1 << 14
SNAPSHOT_FIELDS = (
    "type",
    "content",
    "embeds",
    "attachments",
    "components",
    "timestamp",
    "edited_timestamp",
    "flags",
    "mentions",
    "mention_roles",
)
"""The fields of a message a forward's ``message_snapshots`` carry."""
MESSAGE_FIELDS = ("content", "embeds", "components", "attachments", "poll", "sticker_ids")


class Notifier:
    """Wakes waiters whenever the stand-in records something."""

    def __init__(self, poll_interval: float = 0.02) -> None:
        self._event = asyncio.Event()
        self.poll_interval = poll_interval

    def changed(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(
        self, condition: Callable[[], Any], *, timeout: float, what: str = "condition"
    ) -> Any:
        """Return `condition()`'s first truthy value; raise TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"stand-in: timed out after {timeout:.1f}s waiting for {what}")
            event = self._event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=min(remaining, self.poll_interval))


@dataclass
class RecordedRequest:
    """One REST request as the stand-in saw and answered it.

    `path` has the `/api/v10` prefix removed and real ids in it; `route` is the matched template
    (e.g. `/channels/{channel_id}/messages`, or None for unknown routes). `json` is the JSON body
    or a multipart request's `payload_json`; `files` lists uploads as (field, filename, size, content_type).
    """

    method: str
    path: str
    route: str | None
    query: dict[str, str]
    json: Any
    files: list[tuple[str, str, int, str]]
    at: float
    status: int = 0
    response: Any = None
    authorized: bool = False

    @property
    def error_code(self) -> int | None:
        """Discord's JSON error code when the answer was an error."""
        if self.status >= 400 and isinstance(self.response, dict):
            return self.response.get("code")
        return None

    @property
    def message_body(self) -> dict[str, Any] | None:
        """The message-shaped part of the body: the body itself, or an interaction callback's `data`."""
        if not isinstance(self.json, dict):
            return None
        body = self.json.get("data") if self.route and self.route.endswith("/callback") else self.json
        if isinstance(body, dict) and any(k in body for k in MESSAGE_FIELDS):
            return body
        return None

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        body = self.message_body
        return None if body is None else body.get("allowed_mentions")

    @property
    def mentions_suppressed(self) -> bool:
        return mentions_suppressed(self.allowed_mentions)

    @property
    def pings(self) -> Pings:
        return would_ping(self.message_body)

    def __repr__(self) -> str:
        return f"<RecordedRequest {self.method} {self.path} -> {self.status}>"


@dataclass
class HeartbeatRecord:
    """A HEARTBEAT (op 1) as it arrived: `at` is time.monotonic(), `seq` the client's `d`."""

    connection: int
    at: float
    seq: int | None


@dataclass
class StoredMessage:
    """A message in the stand-in's store, always in its current state; `revisions` keeps history.

    `revisions[0]` is the body that created the message; every later entry is an edit body as
    sent. `interaction_id` is set for interaction responses and followups.
    """

    id: int
    channel_id: int
    guild_id: int | None
    author: dict[str, Any]
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: dict[str, Any] | None = None
    message_reference: dict[str, Any] | None = None
    message_snapshots: list[dict[str, Any]] = field(default_factory=list)
    interaction_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    type: int = 0
    timestamp: str = ""
    edited_timestamp: str | None = None
    member: dict[str, Any] | None = None
    mentions: list[dict[str, Any]] = field(default_factory=list)
    mention_roles: list[str] = field(default_factory=list)
    mention_everyone: bool = False
    tts: bool = False
    deleted: bool = False
    nonce: str | None = None
    revisions: list[dict[str, Any]] = field(default_factory=list)
    created_at: float = field(default_factory=time.monotonic)
    updated_at: float = field(default_factory=time.monotonic)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while this is a deferred response's "is thinking…" placeholder."""
        return bool(self.flags & FLAG_LOADING)

    @property
    def author_id(self) -> int:
        return int(self.author["id"])

    @property
    def text(self) -> str:
        """Content plus every embed's title, description, fields and footer, for easy assertions."""
        parts = [self.content]
        for e in self.embeds:
            parts += [e.get("title") or "", e.get("description") or ""]
            for f in e.get("fields") or []:
                parts += [f.get("name") or "", f.get("value") or ""]
            parts.append((e.get("footer") or {}).get("text") or "")
        return "\n".join(p for p in parts if p)

    @property
    def pings(self) -> Pings:
        """Who the latest revision would have pinged (see `mentions.would_ping`)."""
        body = dict(self.revisions[-1]) if self.revisions else {}
        body.setdefault("content", self.content)
        return would_ping(body, is_reply=self.message_reference is not None)

    def iter_components(self) -> list[dict[str, Any]]:
        """Every interactive component (buttons, selects), flattened out of rows and containers."""
        found: list[dict[str, Any]] = []

        def walk(items: list[dict[str, Any]]) -> None:
            for comp in items:
                if comp.get("type") in (2, 3, 5, 6, 7, 8):
                    found.append(comp)
                walk(comp.get("components") or [])
                if isinstance(comp.get("accessory"), dict):
                    walk([comp["accessory"]])

        walk(self.components)
        return found

    def find_component(
        self, *, custom_id: str | None = None, label: str | None = None
    ) -> dict[str, Any] | None:
        for comp in self.iter_components():
            if custom_id is not None and comp.get("custom_id") != custom_id:
                continue
            if label is not None and comp.get("label") != label:
                continue
            return comp
        return None

    def payload(self) -> dict[str, Any]:
        """The message object Discord returns and dispatches."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "type": self.type,
            "content": self.content,
            "author": self.author,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "tts": self.tts,
            "mention_everyone": self.mention_everyone,
            "mentions": self.mentions,
            "mention_roles": self.mention_roles,
            "attachments": self.attachments,
            "embeds": self.embeds,
            "components": self.components,
            "pinned": False,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
            if self.member is not None:
                data["member"] = self.member
        for key in ("webhook_id", "application_id"):
            value = getattr(self, key)
            if value is not None:
                data[key] = str(value)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = self.interaction_metadata
        if self.message_reference is not None:
            data["message_reference"] = self.message_reference
        if self.message_snapshots:
            data["message_snapshots"] = self.message_snapshots
        if self.nonce is not None:
            data["nonce"] = self.nonce
        return copy.deepcopy(data)

    def snapshot(self) -> dict[str, Any]:
        """What a forward of this message carries: ``{"message": …}`` with its content and embeds."""
        data = self.payload()
        return {"message": {key: data[key] for key in SNAPSHOT_FIELDS}}

    def __repr__(self) -> str:
        state = " deleted" if self.deleted else (" loading" if self.loading else "")
        return f"<StoredMessage id={self.id} channel={self.channel_id}{state} content={self.content[:40]!r}>"


@dataclass
class InteractionEvent:
    """One step of an interaction, in order.

    `kind`: "callback" (initial response), "update" (type 7 edit of the clicked message), "edit"
    (PATCH @original), "followup", "followup_edit", "delete".
    """

    kind: str
    at: float
    message_id: int | None
    body: Any


class InteractionRecord:
    """The stand-in's view of one INTERACTION_CREATE it dispatched and everything the bot did with it.

    `type` is the interaction type (2 command, 3 component, 4 autocomplete, 5 modal submit).
    `callback_type` is the bot's initial response type (4, 5, 6, 7, 8, 9) once it answered in time.
    """

    def __init__(
        self,
        *,
        payload: dict[str, Any],
        messages: dict[int, StoredMessage],
        notifier: Notifier,
        source_message_id: int | None,
    ) -> None:
        self.payload = payload
        self.id: int = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.channel_id: int = int(payload["channel_id"])
        self.guild_id: int | None = int(payload["guild_id"]) if "guild_id" in payload else None
        user = payload["member"]["user"] if "member" in payload else payload["user"]
        self.user_id: int = int(user["id"])
        self.source_message_id = source_message_id
        self.dispatched_at: float | None = None
        self.callback_type: int | None = None
        self.callback_body: dict[str, Any] | None = None
        self.callback_at: float | None = None
        self.original_message_id: int | None = None
        self.followup_ids: list[int] = []
        self.timeline: list[InteractionEvent] = []
        self.rejected: list[RecordedRequest] = []
        self.autocomplete_choices: list[dict[str, Any]] | None = None
        self.modal: dict[str, Any] | None = None
        self._messages = messages
        self._notifier = notifier

    # -- state ---------------------------------------------------------------------------

    @property
    def acknowledged(self) -> bool:
        return self.callback_type is not None

    @property
    def deferred(self) -> bool:
        return self.callback_type in (5, 6)

    @property
    def response_latency(self) -> float | None:
        """Seconds from dispatch to the accepted initial response."""
        if self.callback_at is None or self.dispatched_at is None:
            return None
        return self.callback_at - self.dispatched_at

    @property
    def original(self) -> StoredMessage | None:
        """The message `@original` refers to, in its current state (None before a response)."""
        return None if self.original_message_id is None else self._messages[self.original_message_id]

    @property
    def followups(self) -> list[StoredMessage]:
        return [self._messages[mid] for mid in self.followup_ids]

    @property
    def messages(self) -> list[StoredMessage]:
        """Original response then followups, current state, deleted ones included."""
        original = self.original
        return ([original] if original is not None else []) + self.followups

    @property
    def replies(self) -> list[StoredMessage]:
        """Visible answers: not deleted, not a loading placeholder, ordered by last update."""
        visible = [m for m in self.messages if not m.deleted and not m.loading]
        # For components answered with 6/7, @original is the clicked message: it counts once edited.
        untouched = not any(e.kind in ("update", "edit") for e in self.timeline)
        if self.callback_type in (6, 7) and untouched:
            visible = [m for m in visible if m.id != self.original_message_id]
        return sorted(visible, key=lambda m: m.updated_at)

    @property
    def reply(self) -> StoredMessage | None:
        """The most recently created or edited visible answer."""
        replies = self.replies
        return replies[-1] if replies else None

    # -- waiting -------------------------------------------------------------------------

    async def wait_for_callback(self, timeout: float = 5.0) -> int:
        """Wait for an accepted initial response; return its type."""
        return await self._notifier.wait_until(
            lambda: self.callback_type, timeout=timeout, what=f"a response to interaction {self.id}"
        )

    async def wait_for_reply(
        self, predicate: Callable[[StoredMessage], object] | None = None, *, timeout: float = 5.0
    ) -> StoredMessage:
        """Wait until a visible answer exists (matching `predicate`); return the latest one.

        A deferred response counts only once it has been edited or followed up.
        """

        def latest() -> StoredMessage | None:
            matching = [m for m in self.replies if predicate is None or predicate(m)]
            return matching[-1] if matching else None

        return await self._notifier.wait_until(
            latest, timeout=timeout, what=f"a reply to interaction {self.id}"
        )

    async def wait_for_choices(self, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait for an autocomplete result (callback type 8); return its choices."""
        await self.wait_for_callback(timeout)
        if self.autocomplete_choices is None:
            raise AssertionError(f"interaction {self.id} was answered with type {self.callback_type}, not 8")
        return self.autocomplete_choices

    def record_event(self, kind: str, message_id: int | None, body: Any) -> None:
        self.timeline.append(InteractionEvent(kind, time.monotonic(), message_id, copy.deepcopy(body)))

    def __repr__(self) -> str:
        return f"<InteractionRecord id={self.id} type={self.type} callback={self.callback_type}>"
