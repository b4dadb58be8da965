"""Outlets and languages in the corpus for autocomplete, cached briefly (one query per minute,
not one per keystroke) and dropped after a reindex. Both are listed per scope: a server's own
outlets and languages are offered there only, with the shared corpus's (the most recently used
``MAX_SCOPES`` scopes are kept)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TypeVar

from discord import app_commands
from foreign_desk.bot.render_text import language_name
from foreign_desk.index.engine import Engine
from foreign_desk.index.models import SHARED, Scope, SourceCount

from .limits import CHOICE_MAX, CHOICES_MAX, fit

MAX_SCOPES = 256
T = TypeVar("T")


class Catalog:
    def __init__(self, engine: Callable[[], Engine], ttl_s: float = 60.0) -> None:
        self._engine = engine
        self.ttl_s = ttl_s
        self._sources: OrderedDict[Scope, tuple[float, list[SourceCount]]] = OrderedDict()
        self._languages: OrderedDict[Scope, tuple[float, list[str]]] = OrderedDict()

    def forget(self) -> None:
        self._sources.clear()
        self._languages.clear()

    async def _cached(
        self, cache: OrderedDict[Scope, tuple[float, T]], scope: Scope, load: Callable[[], Awaitable[T]]
    ) -> T:
        """``load()``'s result for ``scope``, read again once older than ``ttl_s``."""
        entry = cache.get(scope)
        if entry is None or time.monotonic() - entry[0] >= self.ttl_s:
            entry = cache[scope] = (time.monotonic(), await load())
            while len(cache) > MAX_SCOPES:
                cache.popitem(last=False)
        cache.move_to_end(scope)
        return entry[1]

    async def sources(self, scope: Scope = SHARED) -> list[SourceCount]:
        return await self._cached(self._sources, scope, lambda: self._engine().sources(scope=scope))

    async def languages(self, scope: Scope = SHARED) -> list[str]:
        """The language codes of the articles ``scope`` may see, most articles first."""

        async def load() -> list[str]:
            return [k for k in await self._engine().languages(scope=scope) if k != "?"]

        return await self._cached(self._languages, scope, load)

    async def source_choices(self, current: str, scope: Scope = SHARED) -> list[app_commands.Choice[str]]:
        """Outlets containing what the user typed (prefix matches first), with their article counts."""
        typed = current.strip().lower()
        found = [s for s in await self.sources(scope) if typed in s.source.lower()]
        found.sort(key=lambda s: (not s.source.lower().startswith(typed), -s.articles, s.source.lower()))
        return [
            app_commands.Choice(name=fit(f"{s.source} ({s.articles})", CHOICE_MAX), value=s.source)
            for s in found
            if len(s.source) <= CHOICE_MAX
        ][:CHOICES_MAX]

    async def language_choices(self, current: str, scope: Scope = SHARED) -> list[app_commands.Choice[str]]:
        """The languages ``scope`` may see whose name or code holds what the user typed."""
        typed = current.strip().lower()
        choices = []
        for code in await self.languages(scope):
            name = f"{language_name(code)} ({code})"  # as the CLI and the bot name it
            if typed in name.lower():
                choices.append(app_commands.Choice(name=name, value=code))
        return choices[:CHOICES_MAX]
