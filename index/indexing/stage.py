"""Stage: the plan written into the pending generation, invisible to readers until published.

One transaction: replaced and gone articles are marked removed, new versions inserted, and
(after a model change) untouched passages copied with their new vector keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from foreign_desk.index.embed import Fingerprint
from foreign_desk.index.faults import checkpoint
from foreign_desk.index.indexing.embed import vector_key
from foreign_desk.index.indexing.plan import Plan
from foreign_desk.index.store import StoreWriter
from foreign_desk.index.store.writer import StoredText


@dataclass(frozen=True, slots=True)
class Staged:
    """Passage rows the pending generation adds (with their vector keys) and removes."""

    new_ids: list[int]
    new_keys: list[str]
    removed: list[int]


async def stage(
    writer: StoreWriter, plan: Plan, restage: Sequence[StoredText], fingerprint: Fingerprint
) -> Staged:
    new_ids: list[int] = []
    new_keys: list[str] = []
    async with writer.transaction():
        removed = await writer.stage_removal(plan.replaced + [old.row for old in plan.gone])
        for item in plan.to_stage:
            keys = [vector_key(fingerprint, t) for t in item.embed_texts()]
            ids = await writer.stage_article(
                item.article,
                lede=item.lede,
                content_hash=item.content_hash,
                passages=item.passages,
                contexts=item.contexts,
                vector_keys=keys,
            )
            new_ids.extend(ids)
            new_keys.extend(keys)
        if restage:
            copies = [(t, vector_key(fingerprint, t.embed_text)) for t in restage]
            new_ids.extend(await writer.stage_passage_copies(copies))
            new_keys.extend(k for _, k in copies)
            removed.extend(t.id for t in restage)
    checkpoint("staged")
    return Staged(new_ids, new_keys, removed)
