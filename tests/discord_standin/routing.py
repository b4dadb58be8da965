"""Small shared pieces of the REST layer: the per-request `Call` and route templates."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import FormErrors
from .records import InteractionRecord
from .validation import check_message_body

Files = list[tuple[str, str, int, str]]


@dataclass
class Call:
    """What a handler gets: path parameters, parsed body, uploads (field, filename, size, type), query.

    Handlers set `interaction` when the request concerns one, so refusals land in its `rejected`.
    """

    params: dict[str, str]
    json: Any
    files: Files
    query: dict[str, str]
    interaction: InteractionRecord | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Call], Awaitable[tuple[int, Any]]]
# (method, template, handler, needs the bot token)
Route = tuple[str, str, Handler, bool]


def compile_route(template: str) -> re.Pattern[str]:
    """`/channels/{channel_id}` → a regex with a named group per placeholder."""
    parts = re.split(r"(\{\w+\})", template)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


def check_edit(body: dict[str, Any], path: tuple[str | int, ...] = ()) -> None:
    """50035 for field errors in an edit body (emptiness is judged on the edited result)."""
    errors = FormErrors()
    check_message_body(body, errors, path)
    errors.raise_if_any()
