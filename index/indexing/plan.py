"""Plan: what a run changes, decided from the prepared articles and what the live generation
holds, before anything is embedded or written. Pure: tested without a store or a model."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from foreign_desk.index.indexing.prepare import Prepared
from foreign_desk.index.store import ExistingArticle


@dataclass(slots=True)
class Plan:
    """Articles to stage (new or changed), live ones they replace or that are gone, the rest kept."""

    to_stage: list[Prepared] = field(default_factory=list)
    replaced: list[int] = field(default_factory=list)
    """Article rows replaced by a new version."""
    gone: list[ExistingArticle] = field(default_factory=list)
    """Live articles whose files (in the run's scope) no longer hold them, removed with ``prune``."""
    kept_gone: int = 0
    """Such articles kept because the run does not prune."""
    untouched: list[int] = field(default_factory=list)
    """Live article rows the run keeps as they are (sorted)."""
    added_ids: list[str] = field(default_factory=list)
    updated_ids: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changes(self) -> bool:
        return bool(self.to_stage or self.replaced or self.gone)


def in_scope(path: str | None, roots: Sequence[Path]) -> bool:
    """Whether an article read from ``path`` lies under one of the run's ``roots``."""
    if not path:
        return False
    for root in roots:
        r = str(root)
        if path == r or path.startswith(r.rstrip(os.sep) + os.sep):
            return True
    return False


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
    articles read from inside ``scope`` that this run did not see, unless their file had
    problems (``keep_paths``); without, count them (``kept_gone``) and keep them."""
    out = Plan()
    for item in prepared:
        old = existing.get(item.article.key)
        if old is None:
            out.to_stage.append(item)
            out.added_ids.append(item.article.id)
        elif full or old.content_hash != item.content_hash:
            out.to_stage.append(item)
            out.replaced.append(old.row)
            out.updated_ids.append(item.article.id)
        else:
            out.unchanged += 1
    seen = {p.article.key for p in prepared}
    out.gone = [
        old
        for old in existing.values()
        if old.key not in seen and in_scope(old.path, scope) and old.path not in keep_paths
    ]
    if not prune:
        out.kept_gone, out.gone = len(out.gone), []
    gone_rows = {old.row for old in out.gone}
    out.untouched = sorted({old.row for old in existing.values()} - set(out.replaced) - gone_rows)
    return out
