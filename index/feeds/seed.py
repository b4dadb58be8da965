"""The feeds a new installation starts with: ``[[feed]]`` tables of a TOML file (``corpus/feeds.toml``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from foreign_desk.index.config import FeedSettings, read_toml
from foreign_desk.index.errors import ConfigError
from foreign_desk.index.lang import language_code

SHIPPED_FEEDS = Path(__file__).resolve().parent.parent.parent / "corpus" / "feeds.toml"
KEYS = {"name", "url", "source", "language", "every"}


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """A feed to register: what ``feeds add`` takes."""

    url: str
    name: str | None = None
    source: str | None = None
    language: str | None = None
    every: int | None = None


def load_seed(path: str | Path | None = None) -> list[FeedSpec]:
    """The feeds listed in ``path`` (default: the shipped ``corpus/feeds.toml``)."""
    path = Path(path) if path else SHIPPED_FEEDS
    raw = read_toml(path, "feeds file")
    tables = raw.get("feed", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"{path}: feeds are [[feed]] tables")
    specs = []
    for n, table in enumerate(tables, 1):
        unknown = sorted(set(table) - KEYS)
        if unknown:
            raise ConfigError(
                f"{path}: feed {n} has an unknown key {unknown[0]!r}; known: {', '.join(sorted(KEYS))}"
            )
        url = table.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(f"{path}: feed {n} needs an http(s) url")
        texts = [k for k in ("name", "source", "language") if not isinstance(table.get(k, ""), str)]
        if texts:
            raise ConfigError(f"{path}: feed {n}: {texts[0]} must be text")
        try:
            language = language_code(table.get("language"))
        except ValueError as exc:
            raise ConfigError(f"{path}: feed {n}: {exc}") from None
        every = table.get("every")
        low, high = FeedSettings.BOUNDS["poll_minutes"]  # as `feeds add --every`
        if every is not None and (
            not isinstance(every, int) or isinstance(every, bool) or not low <= every <= high
        ):
            raise ConfigError(
                f"{path}: feed {n}: every must be a whole number of minutes from {low} to {high:,}"
            )
        specs.append(FeedSpec(url, table.get("name"), table.get("source"), language, every))
    return specs
