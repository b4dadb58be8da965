"""Outlets and languages in the corpus for autocomplete, cached briefly (one query per minute,
not one per keystroke) and dropped after a reindex. Outlets are listed per scope: a server's
own outlets are offered there only (the most recently used ``MAX_SCOPES`` scopes are kept)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from discord import app_commands
from foreign_desk.index.engine import Engine
from foreign_desk.index.models import SHARED, Scope, SourceCount

from .limits import CHOICE_MAX, CHOICES_MAX, fit

MAX_SCOPES = 256
LANGUAGE_NAMES = {"en": "English", "id": "Indonesian", "ms": "Malay", "jv": "Javanese", "su": "Sundanese"}


class Catalog:
    def __init__(self, engine: Callable[[], Engine], ttl_s: float = 60.0) -> None:
        self._engine = engine
        self.ttl_s = ttl_s
        self._sources: OrderedDict[Scope, tuple[float, list[SourceCount]]] = OrderedDict()
        self._languages: tuple[float, list[str]] | None = None

    def forget(self) -> None:
        self._sources.clear()
        self._languages = None

    def _fresh(self, entry: tuple[float, object] | None) -> bool:
        return entry is not None and time.monotonic() - entry[0] < self.ttl_s

    async def sources(self, scope: Scope = SHARED) -> list[SourceCount]:
        entry = self._sources.get(scope)
        if entry is None or not self._fresh(entry):
            entry = (time.monotonic(), await self._engine().sources(scope=scope))
            self._sources[scope] = entry
            while len(self._sources) > MAX_SCOPES:
                self._sources.popitem(last=False)
        self._sources.move_to_end(scope)
        return entry[1]

    async def languages(self) -> list[str]:
        if not self._fresh(self._languages):
            languages = await self._engine().languages()
            self._languages = (time.monotonic(), [k for k in languages if k != "?"])
        assert self._languages is not None
        return self._languages[1]

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

    async def language_choices(self, current: str) -> list[app_commands.Choice[str]]:
        typed = current.strip().lower()
        choices = []
        for code in await self.languages():
            name = f"{LANGUAGE_NAMES.get(code, code)} ({code})"
            if typed in name.lower():
                choices.append(app_commands.Choice(name=name, value=code))
        return choices[:CHOICES_MAX]
