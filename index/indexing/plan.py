"""Plan: what a run changes, decided from the prepared articles and what the live generation
holds. Pure: tested without a store or a model.

Each article is judged as it is read (``Planner.add``: new, changed or unchanged, against the
live generation, known before reading), so a run streams the articles to stage on to the
embedder and keeps none; what is gone is decided at the end from the keys seen.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from foreign_desk.index.indexing.prepare import Prepared
from foreign_desk.index.store.writer import ExistingArticle


@dataclass(slots=True)
class Plan:
    """Articles to stage (new or changed), live ones they replace or that are gone, the rest kept."""

    to_stage: list[Prepared] = field(default_factory=list)
    """Filled by ``plan``; a streaming run stages the articles as they come and keeps none."""
    staged: int = 0
    """Articles to stage (new or changed)."""
    replaced: list[int] = field(default_factory=list)
    """Article rows replaced by a new version."""
    gone: list[ExistingArticle] = field(default_factory=list)
    """Live articles whose files (in the run's scope) no longer hold them: removed when the run
    read that file (a JSON Lines row deleted, a ``url`` added), else only with ``prune``."""
    kept_gone: int = 0
    """Those whose files are gone, kept because the run does not prune."""
    untouched: list[int] = field(default_factory=list)
    """Live article rows the run keeps as they are (sorted)."""
    added_ids: list[str] = field(default_factory=list)
    updated_ids: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changes(self) -> bool:
        return bool(self.staged or self.replaced or self.gone)


def in_scope(path: str | None, roots: Sequence[Path]) -> bool:
    """Whether an article read from ``path`` lies under one of the run's ``roots``."""
    if not path:
        return False
    for root in roots:
        r = str(root)
        if path == r or path.startswith(r.rstrip(os.sep) + os.sep):
            return True
    return False


def _kept(path: str | None, keep_paths: set[str]) -> bool:
    """Whether ``path`` is one of ``keep_paths`` or lies in one (a folder that could not be read)."""
    if not (path and keep_paths):
        return False
    return any(str(p) in keep_paths for p in (Path(path), *Path(path).parents))


def removed_links(
    recorded: Mapping[str, str], found: Mapping[str, Path], scope: Sequence[Path], keep_paths: set[str]
) -> dict[str, str]:
    """The ``recorded`` links (where → real path) under ``scope`` that this run did not find, or
    found leading elsewhere: what was read through them is gone, like a deleted folder's files.
    Not those in a folder that could not be read (``keep_paths``): its links were not seen. A
    removed link's target joins the scope, so links read inside it count too."""
    scope = list(scope)
    removed: dict[str, str] = {}
    grew = True
    while grew:
        grew = False
        for link, target in recorded.items():
            still = found.get(link) == Path(target)
            if link in removed or still or not in_scope(link, scope) or _kept(link, keep_paths):
                continue
            removed[link] = target
            scope.append(Path(target))
            grew = True
    return removed


class Planner:
    """A plan made one article at a time: ``add`` says whether to stage it, ``finish`` decides
    what is gone. Holds the keys seen (for ``finish``), not the articles."""

    def __init__(self, existing: Mapping[str, ExistingArticle], *, full: bool) -> None:
        self.existing = existing
        self.full = full
        self.out = Plan()
        self.seen: set[str] = set()
        self.read: set[str] = set()
        """The files the articles came from: one read holds all it has (a troubled one is kept whole)."""

    def add(self, item: Prepared) -> bool:
        """Count ``item``; whether it is to be staged (new, changed, or everything with ``full``)."""
        out, key = self.out, item.article.key
        self.seen.add(key)
        self.read.add(item.article.path or "")
        old = self.existing.get(key)
        if old is None:
            out.added_ids.append(item.article.id)
        elif self.full or old.content_hash != item.content_hash:
            out.replaced.append(old.row)
            out.updated_ids.append(item.article.id)
        else:
            out.unchanged += 1
            return False
        out.staged += 1
        return True

    def finish(self, *, scope: Sequence[Path], keep_paths: set[str], prune: bool = True) -> Plan:
        """The plan, once every article has been added (see ``plan``)."""
        out = self.out
        out.gone = [
            old
            for old in self.existing.values()
            if old.key not in self.seen and in_scope(old.path, scope) and not _kept(old.path, keep_paths)
        ]
        if not prune:  # a file read holds the article no more: nothing is missing, it is gone
            taken_out = [old for old in out.gone if old.path in self.read]
            out.kept_gone, out.gone = len(out.gone) - len(taken_out), taken_out
        gone_rows = {old.row for old in out.gone}
        out.untouched = sorted({old.row for old in self.existing.values()} - set(out.replaced) - gone_rows)
        return out


def plan(
    prepared: Sequence[Prepared],
    existing: Mapping[str, ExistingArticle],
    *,
    full: bool,
    scope: Sequence[Path],
    keep_paths: set[str],
    prune: bool = True,
) -> Plan:
    """Stage what is new or changed (everything with ``full``); with ``prune``, drop live
    articles read from inside ``scope`` that this run did not see, unless their file, or a
    folder holding it, had problems (``keep_paths``); without, count them (``kept_gone``) and keep them."""
    planner = Planner(existing, full=full)
    planner.out.to_stage = [item for item in prepared if planner.add(item)]
    return planner.finish(scope=scope, keep_paths=keep_paths, prune=prune)
