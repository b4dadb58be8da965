"""Recent answers, so a question asked again (a busy server, a button pressed twice, the next
page after the first) costs a dictionary lookup instead of the model and the index.

An answer is remembered under the generation it was computed on and every search parameter
(question text, page size, filters, per-article cap, offset and whatever else the caller
passes): a new generation can never be answered from an older one, and one server's filters
never answer another's question. Bounded: the least recently used answers go first, and
answers of older generations are dropped as soon as a newer one is seen.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import replace

from foreign_desk.index.models import Answer

DEFAULT_ENTRIES = 512
"""~10 results of ~2 KB each: about 10 MB at most."""


class AnswerCache:
    """LRU of answers keyed by (generation, search parameters); safe across threads."""

    def __init__(self, max_entries: int = DEFAULT_ENTRIES) -> None:
        self.max_entries = max(0, max_entries)
        self._answers: OrderedDict[tuple[int, Hashable], Answer] = OrderedDict()
        self._generation = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, generation: int, key: Hashable) -> Answer | None:
        with self._lock:
            self._see(generation)
            answer = self._answers.get((generation, key))
            if answer is None:
                self.misses += 1
                return None
            self._answers.move_to_end((generation, key))
            self.hits += 1
            return answer

    def put(self, generation: int, key: Hashable, answer: Answer) -> None:
        if not self.max_entries:
            return
        with self._lock:
            self._see(generation)
            if generation < self._generation:
                return  # computed on a generation that is no longer live
            self._answers[(generation, key)] = answer
            self._answers.move_to_end((generation, key))
            while len(self._answers) > self.max_entries:
                self._answers.popitem(last=False)

    def clear(self) -> None:
        """Forget every answer (who may see which article changed, within one generation)."""
        with self._lock:
            self._answers.clear()

    def _see(self, generation: int) -> None:
        if generation > self._generation:
            self._generation = generation
            self._answers.clear()

    def __len__(self) -> int:
        return len(self._answers)


def as_cached(answer: Answer, took_ms: float) -> Answer:
    """A remembered answer as served now: its own time, the stages it skipped left out."""
    return replace(answer, took_ms=round(took_ms, 1), timings={"cache": round(took_ms, 2)})
