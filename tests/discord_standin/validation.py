"""Discord's limits on message bodies and command registrations, reported as 50035 field errors.

Limits (Discord's docs): content 2000; 10 embeds; embed title 256, description 4096, 25 fields,
field name 256 / value 1024, footer text 2048, author name 256, 6000 characters over all
embeds of a message; 5 action rows of at most 5 buttons (a select fills its row); button label 80,
custom_id 100, url 512; link buttons need a url and no custom_id, other buttons a custom_id;
custom_ids unique within a message. Components V2 layouts (flag 1 << 15) are not checked.
URLs of embeds (url, author url, image/thumbnail/icon urls) and link buttons: http or https
(URL_TYPE_INVALID_SCHEME), and well formed (URL_TYPE_INVALID_URL): a host that is an IP literal
or a dotted name, as Discord refuses `http://intranet/x` ("hostname without a TLD", reported by
webhook users: bugsink/bugsink#280, rogerrum/alertmanager-discord#19, discord-jda/JDA#699).
Command registrations: names (and their localizations: keys must be Discord locales) 1-32
lowercase word characters for slash commands and options, 1-32 characters for context menus;
descriptions (and theirs) 1-100; `integration_types` within 0-1 and `contexts` within 0-2.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from .errors import FormErrors

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_TEXT_MAX = 2048
AUTHOR_NAME_MAX = 256
ACTION_ROWS_MAX = 5
ROW_WIDTH = 5
BUTTON_LABEL_MAX = 80
CUSTOM_ID_MAX = 100
URL_MAX = 512
SELECT_TYPES = {3, 5, 6, 7, 8}
LINK_STYLE = 5
PREMIUM_STYLE = 6
FLAG_COMPONENTS_V2 = 1 << 15
AUTOCOMPLETE_CHOICES_MAX = 25
COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
LOCALES = frozenset(
    "id da de en-GB en-US es-ES es-419 fr hr it lt hu nl no pl pt-BR ro fi sv-SE vi tr cs el bg ru uk "
    "hi th zh-CN ja zh-TW ko".split()
)

Path = tuple[str | int, ...]
EMBED_URLS = (("url",), ("author", "url"), ("author", "icon_url"), ("footer", "icon_url"))
EMBED_MEDIA_URLS = (("image", "url"), ("thumbnail", "url"))
_HOST_LABEL = re.compile(r"^(?!-)[^\W_](?:[\w-]*[^\W_])?$")


def url_problem(url: str, schemes: tuple[str, ...] = ("http", "https")) -> tuple[str, str] | None:
    """Discord's error code and message for a URL it refuses, or None."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in schemes:
        allowed = ", ".join(repr(s) for s in schemes)
        return (
            "URL_TYPE_INVALID_SCHEME",
            f'Scheme "{scheme}" is not supported. Scheme must be one of ({allowed}).',
        )
    if scheme in ("http", "https") and not _well_formed(url):
        return "URL_TYPE_INVALID_URL", "Not a well formed URL."
    return None


def _well_formed(url: str) -> bool:
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError:  # a bad port or IPv6 literal
        return False
    if not host or any(ch.isspace() for ch in url):
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    return len(labels) >= 2 and all(_HOST_LABEL.match(label) for label in labels)


def _check_url(
    url: Any, errors: FormErrors, path: Path, schemes: tuple[str, ...] = ("http", "https")
) -> None:
    if not isinstance(url, str):
        return
    found = url_problem(url, schemes)
    if found is not None:
        errors.add(path, *found)


def embed_size(embed: dict[str, Any]) -> int:
    """Characters that count towards the 6000 limit (title, description, fields, footer, author)."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for f in embed.get("fields") or []:
        total += len(f.get("name") or "") + len(f.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def _check_embed(embed: dict[str, Any], errors: FormErrors, path: Path) -> None:
    for keys in EMBED_URLS + EMBED_MEDIA_URLS:
        node: Any = embed
        for key in keys[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and node.get(keys[-1]) is not None:
            media = keys in EMBED_MEDIA_URLS or keys[-1] == "icon_url"
            schemes = ("http", "https", "attachment") if media else ("http", "https")
            _check_url(node[keys[-1]], errors, (*path, *keys), schemes)
    for key, limit in EMBED_LIMITS.items():
        if len(embed.get(key) or "") > limit:
            errors.max_length((*path, key), limit)
    fields = embed.get("fields") or []
    if len(fields) > FIELDS_MAX:
        errors.max_length((*path, "fields"), FIELDS_MAX)
    for i, f in enumerate(fields):
        for key, limit in (("name", FIELD_NAME_MAX), ("value", FIELD_VALUE_MAX)):
            text = f.get(key)
            if text is None or text == "":
                errors.required((*path, "fields", i, key))
            elif len(text) > limit:
                errors.max_length((*path, "fields", i, key), limit)
    footer = embed.get("footer")
    if footer is not None:
        if not footer.get("text"):
            errors.required((*path, "footer", "text"))
        elif len(footer["text"]) > FOOTER_TEXT_MAX:
            errors.max_length((*path, "footer", "text"), FOOTER_TEXT_MAX)
    author = embed.get("author")
    if author is not None:
        if not author.get("name"):
            errors.required((*path, "author", "name"))
        elif len(author["name"]) > AUTHOR_NAME_MAX:
            errors.max_length((*path, "author", "name"), AUTHOR_NAME_MAX)


def check_embeds(embeds: list[dict[str, Any]], errors: FormErrors, path: Path) -> None:
    if len(embeds) > EMBEDS_MAX:
        errors.max_length(path, EMBEDS_MAX)
        return
    for i, embed in enumerate(embeds):
        _check_embed(embed, errors, (*path, i))
    if sum(embed_size(e) for e in embeds) > EMBED_TOTAL_MAX:
        errors.add(path, "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}")


def _check_custom_id(comp: dict[str, Any], errors: FormErrors, path: Path, seen: set[str]) -> None:
    custom_id = comp.get("custom_id")
    if custom_id is None:
        return
    if len(custom_id) > CUSTOM_ID_MAX:
        errors.max_length((*path, "custom_id"), CUSTOM_ID_MAX)
    if custom_id in seen:
        errors.add(
            (*path, "custom_id"), "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
        )
    seen.add(custom_id)


def _check_button(button: dict[str, Any], errors: FormErrors, path: Path) -> None:
    style = button.get("style")
    if style not in range(1, 7):
        errors.add((*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6}.")
        return
    label = button.get("label")
    if label is not None and len(label) > BUTTON_LABEL_MAX:
        errors.max_length((*path, "label"), BUTTON_LABEL_MAX)
    if style == LINK_STYLE:
        if not button.get("url"):
            errors.required((*path, "url"))
        elif len(button["url"]) > URL_MAX:
            errors.max_length((*path, "url"), URL_MAX)
        else:
            _check_url(button["url"], errors, (*path, "url"), ("http", "https", "discord"))
        if button.get("custom_id") is not None:
            errors.add(
                (*path, "custom_id"),
                "BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE",
                "A custom id and url cannot both be specified",
            )
    elif style != PREMIUM_STYLE and not button.get("custom_id"):
        errors.add((*path, "custom_id"), "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "A custom id is required")


def _check_select(select: dict[str, Any], errors: FormErrors, path: Path) -> None:
    if not select.get("custom_id"):
        errors.required((*path, "custom_id"))
    if len(select.get("placeholder") or "") > 150:
        errors.max_length((*path, "placeholder"), 150)
    if select.get("type") == 3:
        options = select.get("options") or []
        if not 1 <= len(options) <= 25:
            errors.bad_length((*path, "options"), 1, 25)
        for i, opt in enumerate(options):
            for key in ("label", "value", "description"):
                if len(opt.get(key) or "") > 100:
                    errors.max_length((*path, "options", i, key), 100)


def check_components(components: list[dict[str, Any]], flags: int, errors: FormErrors, path: Path) -> None:
    """Classic action-row layouts; Components V2 layouts are accepted unchecked."""
    if flags & FLAG_COMPONENTS_V2:
        return
    if len(components) > ACTION_ROWS_MAX:
        errors.max_length(path, ACTION_ROWS_MAX)
    seen: set[str] = set()
    for r, row in enumerate(components):
        row_path = (*path, r)
        if row.get("type") != 1:
            errors.add(
                (*row_path, "type"),
                "COMPONENT_LAYOUT_REQUIRES_COMPONENTS_V2",
                "Top-level components must be action rows unless the message uses components V2",
            )
            continue
        children = row.get("components") or []
        if not 1 <= len(children) <= ROW_WIDTH:
            errors.bad_length((*row_path, "components"), 1, ROW_WIDTH)
        has_select = any(c.get("type") in SELECT_TYPES for c in children)
        for c, comp in enumerate(children):
            comp_path = (*row_path, "components", c)
            if has_select and len(children) > 1:
                errors.add(
                    comp_path,
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "The specified component exceeds the maximum width",
                )
            if comp.get("type") == 2:
                _check_button(comp, errors, comp_path)
            elif comp.get("type") in SELECT_TYPES:
                _check_select(comp, errors, comp_path)
            _check_custom_id(comp, errors, comp_path, seen)


def check_allowed_mentions(am: dict[str, Any], errors: FormErrors, path: Path) -> None:
    parse = am.get("parse") or []
    for i, kind in enumerate(parse):
        if kind not in ("users", "roles", "everyone"):
            errors.add(
                (*path, "parse", i),
                "BASE_TYPE_CHOICES",
                "Value must be one of ('roles', 'users', 'everyone').",
            )
    for kind in ("users", "roles"):
        if kind in parse and am.get(kind):
            errors.add(
                path,
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )
        if len(am.get(kind) or []) > 100:
            errors.max_length((*path, kind), 100)


def check_message_body(body: dict[str, Any], errors: FormErrors, path: Path = ()) -> None:
    """Field checks for a message create or edit body (only the fields present are checked)."""
    content = body.get("content")
    if content is not None and len(str(content)) > CONTENT_MAX:
        errors.max_length((*path, "content"), CONTENT_MAX)
    if body.get("embeds"):
        check_embeds(body["embeds"], errors, (*path, "embeds"))
    if body.get("components"):
        check_components(body["components"], int(body.get("flags") or 0), errors, (*path, "components"))
    if body.get("allowed_mentions") is not None:
        check_allowed_mentions(body["allowed_mentions"], errors, (*path, "allowed_mentions"))


def check_autocomplete(data: dict[str, Any], errors: FormErrors) -> None:
    choices = data.get("choices")
    if choices is None:
        errors.required(("data", "choices"))
        return
    if len(choices) > AUTOCOMPLETE_CHOICES_MAX:
        errors.max_length(("data", "choices"), AUTOCOMPLETE_CHOICES_MAX)
    for i, choice in enumerate(choices):
        name = choice.get("name") or ""
        if not 1 <= len(name) <= 100:
            errors.bad_length(("data", "choices", i, "name"), 1, 100)
        value = choice.get("value")
        if isinstance(value, str) and len(value) > 100:
            errors.max_length(("data", "choices", i, "value"), 100)


def check_modal(data: dict[str, Any], errors: FormErrors) -> None:
    if not data.get("custom_id"):
        errors.required(("data", "custom_id"))
    elif len(data["custom_id"]) > CUSTOM_ID_MAX:
        errors.max_length(("data", "custom_id"), CUSTOM_ID_MAX)
    title = data.get("title") or ""
    if not 1 <= len(title) <= 45:
        errors.bad_length(("data", "title"), 1, 45)
    if not 1 <= len(data.get("components") or []) <= 5:
        errors.bad_length(("data", "components"), 1, 5)


def _check_localizations(node: dict[str, Any], errors: FormErrors, path: Path, *, menu: bool = False) -> None:
    """`name_localizations` / `description_localizations`: known locales, the same rules as the defaults."""
    for field in ("name_localizations", "description_localizations"):
        for locale, text in (node.get(field) or {}).items():
            where = (*path, field, locale)
            if locale not in LOCALES:
                errors.add(where, "LOCALE_INVALID", f"Invalid locale {locale!r}")
            elif field == "description_localizations":
                if not 1 <= len(text or "") <= 100:
                    errors.bad_length(where, 1, 100)
            elif menu:
                if not 1 <= len(text or "") <= 32:
                    errors.bad_length(where, 1, 32)
            elif not COMMAND_NAME.match(text or "") or text != text.lower():
                errors.add(where, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")


def _check_options(options: list[dict[str, Any]], errors: FormErrors, path: Path) -> None:
    if len(options) > 25:
        errors.max_length(path, 25)
    names: set[str] = set()
    seen_optional = False
    for i, opt in enumerate(options):
        opt_path = (*path, i)
        name = opt.get("name") or ""
        if not COMMAND_NAME.match(name) or name != name.lower():
            errors.add((*opt_path, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        if name in names:
            errors.add(
                (*opt_path, "name"), "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Option name exists"
            )
        names.add(name)
        if not 1 <= len(opt.get("description") or "") <= 100:
            errors.bad_length((*opt_path, "description"), 1, 100)
        _check_localizations(opt, errors, opt_path)
        if opt.get("type") in (1, 2):
            _check_options(opt.get("options") or [], errors, (*opt_path, "options"))
            continue
        if opt.get("required"):
            if seen_optional:
                errors.add(
                    (*opt_path, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        if len(opt.get("choices") or []) > 25:
            errors.max_length((*opt_path, "choices"), 25)


def check_commands(commands: list[dict[str, Any]], errors: FormErrors) -> None:
    """Bulk-overwrite body: names, descriptions, option shapes, duplicates, count limits."""
    if len(commands) > 100:
        errors.max_length((), 100)
    seen: set[tuple[str, int]] = set()
    for i, cmd in enumerate(commands):
        kind = int(cmd.get("type", 1))
        name = cmd.get("name") or ""
        if kind == 1 and (not COMMAND_NAME.match(name) or name != name.lower()):
            errors.add((i, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        if (name, kind) in seen:
            errors.add(
                (i, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        seen.add((name, kind))
        if kind != 1 and not 1 <= len(name) <= 32:
            errors.bad_length((i, "name"), 1, 32)
        _check_localizations(cmd, errors, (i,), menu=kind != 1)
        if not set(cmd.get("integration_types") or []) <= {0, 1}:
            errors.add((i, "integration_types"), "BASE_TYPE_CHOICES", "Value must be one of {0, 1}.")
        if not set(cmd.get("contexts") or []) <= {0, 1, 2}:
            errors.add((i, "contexts"), "BASE_TYPE_CHOICES", "Value must be one of {0, 1, 2}.")
        if kind == 1:
            if not 1 <= len(cmd.get("description") or "") <= 100:
                errors.bad_length((i, "description"), 1, 100)
            _check_options(cmd.get("options") or [], errors, (i, "options"))
