"""Recent answers, so a question asked again (a busy server, a button pressed twice, the next
page after the first) costs a dictionary lookup instead of the model and the index.

An answer is remembered under the version it was computed on (the generation and the count
of changes to who may see what, ``Reader.versions``, so a change made by any process counts)
and every search parameter (question text, page size, filters, scope, offset and whatever else
the caller passes): a new generation or a server granted or denied an article is never
answered from before, and one server's question never answers another's. Bounded: the least
recently used answers go first, and answers of older versions are dropped as soon as a newer
one is seen.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import replace

from foreign_desk.index.models import Answer

Version = tuple[int, int]
"""(generation, scopes version): both only grow."""

DEFAULT_ENTRIES = 512
"""~10 results of ~2 KB each: about 10 MB at most."""


class AnswerCache:
    """LRU of answers keyed by (version, search parameters); safe across threads."""

    def __init__(self, max_entries: int = DEFAULT_ENTRIES) -> None:
        self.max_entries = max(0, max_entries)
        self._answers: OrderedDict[tuple[Version, Hashable], Answer] = OrderedDict()
        self._version: Version = (0, 0)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, version: Version, key: Hashable) -> Answer | None:
        with self._lock:
            self._see(version)
            answer = self._answers.get((version, key))
            if answer is None:
                self.misses += 1
                return None
            self._answers.move_to_end((version, key))
            self.hits += 1
            return answer

    def put(self, version: Version, key: Hashable, answer: Answer) -> None:
        if not self.max_entries:
            return
        with self._lock:
            self._see(version)
            if version < self._version:
                return  # computed on a version that is no longer live
            self._answers[(version, key)] = answer
            self._answers.move_to_end((version, key))
            while len(self._answers) > self.max_entries:
                self._answers.popitem(last=False)

    def _see(self, version: Version) -> None:
        if version > self._version:
            self._version = version
            self._answers.clear()

    def __len__(self) -> int:
        return len(self._answers)


def as_cached(answer: Answer, took_ms: float) -> Answer:
    """A remembered answer as served now: its own time, the stages it skipped left out."""
    return replace(answer, took_ms=round(took_ms, 1), timings={"cache": round(took_ms, 2)})
