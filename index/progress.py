"""What an indexing run tells while it runs (``IndexProgress``) and when done (``IndexReport``).
Apart from ``index.models``: a process that only answers never builds them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from foreign_desk.index.article import Problems


@dataclass(slots=True)
class IndexProgress:
    """Progress of an indexing run, passed to a callback after each step.

    ``phase`` is waiting (another writer has the index), reading (``unit`` files), embedding
    (articles), writing, or done.
    """

    phase: str
    done: int = 0
    total: int = 0
    unit: str = "articles"
    passages: int = 0
    elapsed_s: float = 0.0

    @property
    def nothing_to_embed(self) -> bool:
        """Nothing was embedded, and nothing is left to be: every article read was unchanged (a
        second run), or only removed. Said so: "0 passages embedded" reads as if something failed."""
        if self.passages:
            return False
        return self.phase in ("writing", "done") or (self.phase == "embedding" and not self.total)

    @property
    def embedded(self) -> str:
        """``12 passages embedded``, or ``nothing new to embed``."""
        if self.nothing_to_embed:
            return "nothing new to embed"
        return f"{self.passages} passage{'' if self.passages == 1 else 's'} embedded"

    def __str__(self) -> str:
        count = f" {self.done}/{self.total} {self.unit}" if self.total else ""
        return f"{self.phase}{count}, {self.embedded}, {self.elapsed_s:.0f} s"


ProgressFn = Callable[[IndexProgress], None]
"""Called after each step of an indexing run (on the event loop)."""


def waiting_notice(progress: ProgressFn | None) -> Callable[[], None] | None:
    """What tells ``progress`` that the run waits for another writer, so that a status shows
    why nothing moves (``WriterLock.hold``'s ``waiting``)."""
    if progress is None:
        return None
    return lambda: progress(IndexProgress("waiting"))


@dataclass(slots=True)
class IndexReport:
    """Summary of an indexing run."""

    articles_seen: int = 0
    articles_added: int = 0
    articles_updated: int = 0
    articles_removed: int = 0
    articles_unchanged: int = 0
    passages_added: int = 0
    passages_removed: int = 0
    passages_embedded: int = 0
    generation: int = 0
    seconds: float = 0.0
    """Until the new generation was live (answerable)."""
    problems: Problems = field(default_factory=Problems)
    articles_gone_kept: int = 0
    """Articles whose files under the run's paths are gone, kept because it did not ``prune``."""
    article_files: int = 0
    """The article files found under the run's paths (read, or skipped with a problem)."""
    unsupported: dict[str, int] = field(default_factory=dict)
    """Files under the run's folders of types no reader takes, counted by type (``{".csv": 2}``;
    hidden files and sidecars such as ``README.md`` and ``feeds.toml`` left out)."""
    missing_roots: dict[str, str] = field(default_factory=dict)
    """Paths the run was given that it cannot read, with why (``no such file or folder``, ``not
    a regular file or folder``: a FIFO or device): nothing under them was read or removed."""
    warnings_not_repeated: int = 0
    """Warnings of readers about articles this run found unchanged: said when each was staged,
    logged at INFO this time (``readers.notes``)."""
    # Which articles (``Article.id``) the run changed, decided under the writer lock against the
    # live generation; left out of repr (a full run lists every article).
    added_ids: list[str] = field(default_factory=list, repr=False)
    updated_ids: list[str] = field(default_factory=list, repr=False)
    """Replaced by a new version (every article in a ``--full`` run)."""
    removed_ids: list[str] = field(default_factory=list, repr=False)

    @property
    def changed_ids(self) -> list[str]:
        """The articles whose current version this run's generation added (new or updated)."""
        return self.added_ids + self.updated_ids
