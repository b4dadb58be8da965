"""The reference background shipped per model: ordinary news passages' vectors, per language.

A corpus of a few articles cannot say what an unrelated passage scores against a question: its
few passages may all be about the question's topic. For those languages the shipped sample of
ordinary news (built by ``python -m bench.quality.reference`` with the same model and the same
passage recipe) stands in for the corpus's own sample (``index/background.py``). A model
without a shipped reference falls back to the corpus alone.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from foreign_desk.index.embed import Fingerprint

log = logging.getLogger(__name__)

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


def reference_path(fingerprint: Fingerprint) -> Path:
    """Where the reference of the model with ``fingerprint`` is (or would be) stored."""
    name = re.sub(r"[^A-Za-z0-9.]+", "-", f"{fingerprint.backend}-{fingerprint.model}-{fingerprint.dim}")
    return REFERENCE_DIR / f"{name.strip('-')}.npz"


SENTENCES = "sentences-"
"""Prefix of the arrays of sentence vectors (``sentences-en``) beside the passage vectors (``en``)."""


@dataclass(frozen=True, slots=True)
class Reference:
    """Language → reference vectors (float32 rows): passages, and the sentences of those passages."""

    passages: dict[str, np.ndarray]
    sentences: dict[str, np.ndarray]


NO_REFERENCE = Reference({}, {})


@functools.cache
def reference_vectors(fingerprint: Fingerprint) -> Reference:
    """The reference shipped for this model (``NO_REFERENCE`` when none ships)."""
    path = reference_path(fingerprint)
    if not path.is_file():
        return NO_REFERENCE
    with np.load(path) as data:
        if str(data["fingerprint"]) != fingerprint.to_json():
            log.warning("%s was made by another model; no reference background", path)
            return NO_REFERENCE
        arrays = {name: data[name].astype(np.float32) for name in data.files if name != "fingerprint"}
    sentences = {name.removeprefix(SENTENCES): v for name, v in arrays.items() if name.startswith(SENTENCES)}
    return Reference({k: v for k, v in arrays.items() if not k.startswith(SENTENCES)}, sentences)
