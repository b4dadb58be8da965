"""Application commands the bot registered, and `data` payloads for invoking them.

Registered commands make dispatched interactions faithful: the command's real id, `guild_id` for
guild commands, option types from the schema, and the checks Discord's client makes before it
lets a user submit (required options, choices, ranges, default_member_permissions, DM context).
Without a registration the option types are inferred from the Python values.

Localizations: the registry keeps `name_localizations` / `description_localizations` of commands
and options as synced. `seen_by(locale)` is the command list as a user of that locale reads it,
and a user of a locale may invoke a command by its localized names (`/tanya pertanyaan:…`):
the interaction carries the default names, as Discord's does.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .errors import StandinUsageError
from .world import Channel, Role, User

SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = range(3, 12)


@dataclass
class CommandRegistry:
    """Global commands and per-guild commands, as stored by bulk overwrite and single edits."""

    global_commands: list[dict[str, Any]] = field(default_factory=list)
    guild_commands: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    def bucket(self, guild_id: int | None) -> list[dict[str, Any]]:
        if guild_id is None:
            return self.global_commands
        return self.guild_commands.setdefault(guild_id, [])

    def overwrite(
        self, guild_id: int | None, commands: list[dict[str, Any]], *, application_id: int, new_id: Any
    ) -> list[dict[str, Any]]:
        """Bulk overwrite: commands with the same (name, type) keep their id, like Discord."""
        old = {(c["name"], c["type"]): c for c in self.bucket(guild_id)}
        stored = []
        for body in commands:
            kind = int(body.get("type", 1))
            previous = old.get((body["name"], kind))
            stored.append(
                self.normalise(body, application_id, guild_id, previous["id"] if previous else str(new_id()))
            )
        if guild_id is None:
            self.global_commands = stored
        else:
            self.guild_commands[guild_id] = stored
        return copy.deepcopy(stored)

    @staticmethod
    def normalise(
        body: dict[str, Any], application_id: int, guild_id: int | None, cmd_id: str
    ) -> dict[str, Any]:
        """The application command object Discord returns for a registration body."""
        kind = int(body.get("type", 1))
        cmd = {
            "id": cmd_id,
            "application_id": str(application_id),
            "version": cmd_id,
            "type": kind,
            "name": body["name"],
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description", "") if kind == 1 else "",
            "description_localizations": body.get("description_localizations"),
            "default_member_permissions": body.get("default_member_permissions"),
            "dm_permission": body.get("dm_permission", True),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
            "nsfw": body.get("nsfw", False),
        }
        if kind == 1:
            cmd["options"] = copy.deepcopy(body.get("options") or [])
        if guild_id is not None:
            cmd["guild_id"] = str(guild_id)
            cmd.pop("dm_permission")
            cmd.pop("contexts")
        return cmd

    def find(
        self, name: str, guild_id: int | None, kind: int = 1, locale: str | None = None
    ) -> dict[str, Any] | None:
        """Guild commands shadow global ones of the same name, as in Discord's client; a user of
        `locale` finds a command by its localized name too."""
        buckets = ([self.guild_commands.get(guild_id, [])] if guild_id is not None else []) + [
            self.global_commands
        ]
        for bucket in buckets:
            for cmd in bucket:
                if cmd["type"] == kind and name in (cmd["name"], localized(cmd, "name", locale)):
                    return cmd
        return None

    def seen_by(self, locale: str, guild_id: int | None = None) -> list[dict[str, Any]]:
        """The commands (global, then `guild_id`'s) with names and descriptions as a user of
        `locale` reads them: the localization where there is one, else the default."""
        bucket = self.global_commands + (self.guild_commands.get(guild_id, []) if guild_id else [])
        return [_seen(cmd, locale) for cmd in bucket]


def localized(node: dict[str, Any], key: str, locale: str | None) -> str | None:
    """`node[key]` as a user of `locale` reads it (None when not localized for it)."""
    if locale is None:
        return None
    return (node.get(f"{key}_localizations") or {}).get(locale)


def _seen(node: dict[str, Any], locale: str) -> dict[str, Any]:
    seen = {k: v for k, v in node.items() if not k.endswith("_localizations") and k != "options"}
    for key in ("name", "description"):
        if key in node:
            seen[key] = localized(node, key, locale) or node[key]
    if node.get("options"):
        seen["options"] = [_seen(o, locale) for o in node["options"]]
    return seen


def _infer_type(value: Any) -> int:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, User):
        return USER
    if isinstance(value, Role):
        return ROLE
    if isinstance(value, Channel):
        return CHANNEL
    return STRING


def _check_value(name: str, schema: dict[str, Any], value: Any) -> None:
    kind = schema["type"]
    python_types: dict[int, type | tuple[type, ...]] = {
        STRING: str,
        INTEGER: int,
        BOOLEAN: bool,
        NUMBER: (int, float),
    }
    expected = python_types.get(kind)
    if expected is not None and (
        not isinstance(value, expected) or (kind != BOOLEAN and isinstance(value, bool))
    ):
        raise StandinUsageError(f"option {name!r} has type {kind}; Discord would not send {value!r}")
    choices = schema.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise StandinUsageError(
            f"option {name!r} only accepts its choices; Discord's client would not send {value!r}"
        )
    if kind == STRING and not schema.get("min_length", 0) <= len(value) <= schema.get("max_length", 6000):
        raise StandinUsageError(f"option {name!r}: length {len(value)} is outside its min/max_length")
    if kind in (INTEGER, NUMBER):
        low, high = schema.get("min_value"), schema.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise StandinUsageError(f"option {name!r}: {value} is outside its min/max_value")


def _default_names(
    values: dict[str, Any], schema: list[dict[str, Any]], locale: str | None, focused: str | None
) -> tuple[dict[str, Any], str | None]:
    """Option values keyed by their default names, when a user of `locale` typed localized ones."""
    names = {localized(o, "name", locale): o["name"] for o in schema if localized(o, "name", locale)}
    return {names.get(k, k): v for k, v in values.items()}, names.get(focused, focused) if focused else None


def build_leaf_options(
    values: dict[str, Any],
    schema: list[dict[str, Any]] | None,
    *,
    focused: str | None,
    resolved: dict[str, dict[str, Any]],
    resolve: Any,
    locale: str | None = None,
) -> list[dict[str, Any]]:
    """Options of the invoked (sub)command, validated against its schema when there is one."""
    if schema is not None:
        values, focused = _default_names(values, schema, locale, focused)
    by_name = {o["name"]: o for o in schema or []}
    if schema is not None:
        unknown = set(values) - set(by_name)
        if unknown:
            raise StandinUsageError(f"unknown option(s) {sorted(unknown)}; the command has {sorted(by_name)}")
        if focused is None:
            missing = [o["name"] for o in schema if o.get("required") and o["name"] not in values]
            if missing:
                raise StandinUsageError(
                    f"required option(s) {missing} missing; Discord's client would not submit"
                )
    options = []
    for name, value in values.items():
        kind = by_name[name]["type"] if name in by_name else _infer_type(value)
        if name == focused:
            options.append({"name": name, "type": kind, "value": str(value), "focused": True})
            continue
        if name in by_name:
            _check_value(name, by_name[name], value)
        if kind in (USER, ROLE, CHANNEL, MENTIONABLE):
            value = resolve(value, resolved)  # sent as an id, the object goes in `resolved`
        options.append({"name": name, "type": kind, "value": value})
    if focused is not None and focused not in values:
        raise StandinUsageError(f"focused option {focused!r} must be given a (partial) value")
    return options


def build_command_data(
    path: str,
    values: dict[str, Any],
    registered: dict[str, Any] | None,
    *,
    focused: str | None,
    command_id: str,
    resolve: Any,
    locale: str | None = None,
) -> dict[str, Any]:
    """`data` for a CHAT_INPUT interaction: `"admin reindex"` → command admin, subcommand reindex.

    Two words are command + subcommand, three are command + group + subcommand, as in Discord.
    Names may be the ones localized for `locale`; `data` carries the default names.
    """
    parts = path.strip().lstrip("/").split()
    if not 1 <= len(parts) <= 3:
        raise StandinUsageError(f"bad command path {path!r}")
    resolved: dict[str, dict[str, Any]] = {}
    schema = registered.get("options") if registered is not None else None
    chain: list[tuple[str, int]] = []
    for depth, part in enumerate(parts[1:], start=1):
        if registered is not None:
            node = next(
                (
                    o
                    for o in schema or []
                    if part in (o["name"], localized(o, "name", locale)) and o["type"] in (1, 2)
                ),
                None,
            )
            if node is None:
                raise StandinUsageError(f"{parts[0]!r} has no subcommand or group {part!r}")
            part, kind, schema = node["name"], node["type"], node.get("options") or []
        else:
            kind = SUB_COMMAND if depth == len(parts) - 1 else SUB_COMMAND_GROUP
        chain.append((part, kind))
    if chain and chain[-1][1] != SUB_COMMAND:
        raise StandinUsageError(f"{path!r} names a group; Discord only invokes subcommands")
    if registered is not None and schema and any(o["type"] in (1, 2) for o in schema):
        raise StandinUsageError(f"{path!r} has subcommands; name one, e.g. {parts[0]} <sub>")
    options = build_leaf_options(
        values, schema, focused=focused, resolved=resolved, resolve=resolve, locale=locale
    )
    for name, kind in reversed(chain):
        options = [{"name": name, "type": kind, "options": options}]
    name = registered["name"] if registered is not None else parts[0]
    data: dict[str, Any] = {"id": command_id, "name": name, "type": 1}
    if options:
        data["options"] = options
    if resolved:
        data["resolved"] = resolved
    if registered is not None and "guild_id" in registered:
        data["guild_id"] = registered["guild_id"]
    return data
