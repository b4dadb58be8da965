"""Stage: the plan written into the pending generation, invisible to readers until published.

One transaction: replaced and gone articles are marked removed, new versions inserted, and
(after a model change) untouched passages copied with their new vector keys.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from foreign_desk.index.embed import Fingerprint
from foreign_desk.index.faults import checkpoint
from foreign_desk.index.indexing.embed import passage_key, passage_keys
from foreign_desk.index.indexing.plan import Plan
from foreign_desk.index.store.writer import ArticleRows, StoredText, StoreWriter

STAGE_BATCH = 1_024
"""Articles staged per statement and per transaction: one await per batch, not one per passage.
Each commit writes the FTS5 rows of its passages as a new segment that later merges rewrite: at
100k passages (~34k articles), 1,024 instead of 256 took SQLite's CPU from ~28 to 25.6 s (23.2
with ``FTS_HASH_BYTES``)."""


@dataclass(frozen=True, slots=True)
class Staged:
    """Passage rows the pending generation adds (with their vector keys) and removes."""

    new_ids: list[int]
    new_keys: list[str]
    removed: list[int]


async def stage(
    writer: StoreWriter,
    plan: Plan,
    restage: Sequence[StoredText],
    fingerprint: Fingerprint,
    scopes: Mapping[str, Collection[int | None]] | None = None,
    keys: Sequence[tuple[str, ...]] | None = None,
) -> Staged:
    """Stage ``plan``; each article staged is granted to its ``scopes`` (server ids, None for the
    shared corpus; an article not in ``scopes`` is the shared corpus's). ``keys``: each article's
    passage keys (``passage_keys``) where the caller has them (not hashed twice)."""
    new_ids: list[int] = []
    new_keys: list[str] = []
    async with writer.transaction():
        removed = await writer.stage_removal(plan.replaced + [old.row for old in plan.gone])
        # Granted first: a passage's keyword index (shared or own, schema 7) is chosen as it is
        # inserted, from its article's scopes.
        shared: tuple[int | None, ...] = (None,)
        await writer.grant(
            (item.article.id, guild)
            for item in plan.to_stage
            for guild in (scopes or {}).get(item.article.id, shared)
        )
        if keys is None:
            keys = [passage_keys(fingerprint, item) for item in plan.to_stage]
        for start in range(0, len(plan.to_stage), STAGE_BATCH):
            rows = [
                ArticleRows(item.article, item.lede, item.content_hash, item.passages, item.contexts, k)
                for item, k in zip(
                    plan.to_stage[start : start + STAGE_BATCH], keys[start : start + STAGE_BATCH], strict=True
                )
            ]
            new_ids.extend(await writer.stage_articles(rows))
            new_keys.extend(k for r in rows for k in r.vector_keys)
        if restage:
            copies = [(t, passage_key(fingerprint, t.context, t.text)) for t in restage]
            new_ids.extend(await writer.stage_passage_copies(copies))
            new_keys.extend(k for _, k in copies)
            removed.extend(t.id for t in restage)
    checkpoint("staged")
    return Staged(new_ids, new_keys, removed)
