"""Work held at a gate until a test has seen what must happen meanwhile: proofs by events, not by
how long something took on this machine."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np


class GatedEmbedder:
    """Wraps an embedder; ``embed_passages`` (indexing) waits at ``gate`` in its own thread.

    Give it to an engine as ``engine.embedder``: indexing runs use it, while questions keep the
    embedder the engine's searcher was built with. ``entered`` is set once a run is inside.
    """

    def __init__(self, real: Any, *, hold_s: float = 120.0) -> None:
        self.real = real
        self.hold_s = hold_s
        self.entered = threading.Event()
        self.gate = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.entered.set()
        self.gate.wait(timeout=self.hold_s)  # a ceiling against a test that forgot to open it
        return self.real.embed_passages(texts)
