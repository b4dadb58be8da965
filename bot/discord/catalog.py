"""Outlets and languages in the corpus for autocomplete, cached briefly (one query per minute,
not one per keystroke) and dropped after a reindex."""

from __future__ import annotations

import time
from collections.abc import Callable

from discord import app_commands
from foreign_desk.index.engine import Engine
from foreign_desk.index.models import SourceCount

from .limits import CHOICE_MAX, CHOICES_MAX, fit

LANGUAGE_NAMES = {"en": "English", "id": "Indonesian", "ms": "Malay", "jv": "Javanese", "su": "Sundanese"}


class Catalog:
    def __init__(self, engine: Callable[[], Engine], ttl_s: float = 60.0) -> None:
        self._engine = engine
        self.ttl_s = ttl_s
        self._sources: tuple[float, list[SourceCount]] | None = None
        self._languages: tuple[float, list[str]] | None = None

    def forget(self) -> None:
        self._sources = self._languages = None

    def _fresh(self, entry: tuple[float, object] | None) -> bool:
        return entry is not None and time.monotonic() - entry[0] < self.ttl_s

    async def sources(self) -> list[SourceCount]:
        if not self._fresh(self._sources):
            self._sources = (time.monotonic(), await self._engine().sources())
        assert self._sources is not None
        return self._sources[1]

    async def languages(self) -> list[str]:
        if not self._fresh(self._languages):
            languages = await self._engine().languages()
            self._languages = (time.monotonic(), [k for k in languages if k != "?"])
        assert self._languages is not None
        return self._languages[1]

    async def source_choices(self, current: str) -> list[app_commands.Choice[str]]:
        """Outlets containing what the user typed (prefix matches first), with their article counts."""
        typed = current.strip().lower()
        found = [s for s in await self.sources() if typed in s.source.lower()]
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
