"""A generation's background sample, measured once: at publish, and saved beside its vectors.

The questions' backgrounds (``index/background.py``) are the mean and covariance, per language,
of a sample of the generation's passage vectors and of their sentences' vectors. Measuring them
reads ~1,000 passage vectors with their sentence vectors and multiplies a 384×384 covariance per
language: at 100k passages 0.1 s of each cold start (more on a busy machine). Publishing
measures them (``save``) into ``vectors/background.bin``; opening the generation uses them
(``sampled``) when they were measured for this generation's vector file (its checksum), with
this embedder and this recipe, and no sentence vector was written since (sentence vectors can be
added after publishing: every write gives its row a rowid above all others, so the largest is
recorded, one B-tree descent to check where checking the sampled passages' rows took 10 ms at
100k passages, 80 ms at 1M); otherwise they are measured again and saved for the next opening.
A damaged file (its own xxh3-128 digest, over the header's key, languages, counts and array
places as well as the arrays, or an unreadable header) is ignored with a log line. The moments are
stored as they were computed (float64, bit for bit): the same answers either way.
"""

from __future__ import annotations

import asyncio
import json
import logging
import mmap
import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xxhash
from foreign_desk.index.background import ANY_LANGUAGE, MIN_BACKGROUND, Moments, own_moments
from foreign_desk.index.embed import Fingerprint
from foreign_desk.index.store import Store
from foreign_desk.index.store.exact import ExactVectors
from foreign_desk.index.store.integrity import open_regular
from foreign_desk.index.store.vectors import VectorIndex

log = logging.getLogger(__name__)

BACKGROUND_SAMPLE = 1024
"""Passage vectors sampled per generation for the questions' backgrounds: enough for a steady
mean and spread per language; measured once per generation."""
FILE_NAME = "background.bin"
"""In the vector folder; one file, replaced by each publish (only the live generation's counts)."""
MAGIC = b"foreign-desk background moments\n"
RECIPE = 4
"""Bump when what is sampled, how it is measured or how it is saved changes: older files are then
measured again. 3: the shared corpus's passages only (servers' own left out). 4: the digest
covers the header too."""
_ALIGN = 64
_HEADER_MAX = 1 << 16
SENTENCES_WRITTEN_SQL = "SELECT coalesce(max(rowid), 0) FROM sentence_embeddings"
"""The last sentence-vector row written: an insert or a replacement gets a rowid above it."""
UNKNOWN = -1


@dataclass(frozen=True, slots=True)
class Sampled:
    """The moments of a generation's background sample, per language (``""``: all)."""

    ids: np.ndarray
    """The sampled passage ids."""
    passages: dict[str, Moments]
    sentences: dict[str, Moments]
    sentences_written: int
    """``SENTENCES_WRITTEN_SQL`` before the sample was read: a file whose number the store no
    longer gives (sentence vectors were written since) is measured again."""


def with_exact(store: Store, vectors: VectorIndex) -> VectorIndex:
    """``vectors``, re-ranking (and sampling) from the float vectors the store keeps when quantized."""
    if vectors.exact is None:
        vectors.exact = ExactVectors(store.readers, vectors.dim)
    return vectors


async def measure(store: Store, vectors: VectorIndex, by_language: Mapping[str, np.ndarray]) -> Sampled:
    """Sample ``vectors`` and measure the moments; ``by_language``: the generation's passage
    ids per language where the caller has them (else the sampled ids' languages are read)."""
    written = await _sentences_written(store)
    unshared = await store.unshared_ids()  # servers' own: no server may change others' background
    leave_out = unshared if len(unshared) else None
    ids, sample = await asyncio.to_thread(with_exact(store, vectors).sample, BACKGROUND_SAMPLE, leave_out)
    sampled = _languages(ids, by_language) if by_language else await store.languages_of(ids.tolist())
    sentences = await store.sentence_vectors_of(ids.tolist(), vectors.dim)
    samples, sentence_samples = _samples(ids, sample, sampled, sentences)
    passages = await asyncio.to_thread(own_moments, samples)
    of_sentences = await asyncio.to_thread(own_moments, sentence_samples)
    return Sampled(ids, passages, of_sentences, written)


async def sampled(
    store: Store,
    key: dict[str, Any] | None,
    vectors: VectorIndex,
    by_language: Mapping[str, np.ndarray],
) -> Sampled:
    """The generation's sample moments: saved at publish under ``key`` (``moments_key``) when
    they still hold, else measured now. ``key`` None: measured (the vectors are not the file's)."""
    path = store.data_dir / "vectors" / FILE_NAME
    saved = await asyncio.to_thread(load, path, key) if key is not None else None
    if saved is not None:
        written = await _sentences_written(store)
        if written == saved.sentences_written != UNKNOWN:
            return saved
        log.info("sentence vectors were written since %s was saved; measuring again", path.name)
    measured = await measure(store, vectors, by_language)
    if key is not None:
        await _keep(path, key, measured)
    return measured


async def _keep(path: Path, key: dict[str, Any], measured: Sampled) -> None:
    """Save the moments an opening had to measure, so that the next one reads them: a store
    published before the recipe changed (or whose file was damaged) would otherwise measure
    them at every start (1-2 s at 100k passages on a busy machine). The key names the
    generation, so a publish racing this save costs its next opening a measuring, never a wrong
    background; a data dir that cannot be written only keeps the measuring."""
    try:
        await asyncio.to_thread(save, path, key, measured)
    except OSError as exc:
        log.info("could not keep the measured background moments (%s)", exc)


async def save_measured(store: Store, key: dict[str, Any], vectors: VectorIndex) -> None:
    """Measure the moments of the generation just published and save them (publishing calls
    this last, after collecting garbage). A file that cannot be written only costs the next
    opening the measuring."""
    try:
        measured = await measure(store, vectors, {})
        await asyncio.to_thread(save, store.data_dir / "vectors" / FILE_NAME, key, measured)
    except (OSError, sqlite3.Error) as exc:
        log.warning("could not save the background moments (%s); they are measured when opened", exc)


def moments_key(generation: int, checksum: str, fingerprint: Fingerprint) -> dict[str, Any]:
    """What saved moments must have been measured for to be used."""
    return {
        "generation": generation,
        "vectors": checksum,
        "fingerprint": fingerprint.to_json(),
        "sample": BACKGROUND_SAMPLE,
        "min_background": MIN_BACKGROUND,
        "recipe": RECIPE,
    }


async def _sentences_written(store: Store) -> int:
    try:
        async with store.conn.execute(SENTENCES_WRITTEN_SQL) as cur:
            row = await cur.fetchone()
    except sqlite3.Error as exc:  # a table without rowids: never trusted, always measured
        log.info("cannot tell whether sentence vectors were written (%s)", exc)
        return UNKNOWN
    return int(row[0]) if row else UNKNOWN


# -- the file -------------------------------------------------------------------------------
def _arrays(measured: Sampled) -> dict[str, np.ndarray]:
    out = {"ids": np.asarray(measured.ids, dtype=np.int64)}
    out["sentences_written"] = np.asarray([measured.sentences_written], dtype=np.int64)
    for group, moments in (("passages", measured.passages), ("sentences", measured.sentences)):
        for i, m in enumerate(moments.values()):
            out[f"{group}.{i}.mean"] = np.ascontiguousarray(m.mean, dtype=np.float64)
            out[f"{group}.{i}.covariance"] = np.ascontiguousarray(m.covariance, dtype=np.float64)
    return out


def save(path: Path, key: dict[str, Any], measured: Sampled) -> None:
    """Write ``measured`` under ``key`` atomically (temp file, fsync, rename; a failed write
    removes the temp file). Layout: ``MAGIC``, one JSON line (key, digest, the arrays' places),
    then the arrays, each 64-byte aligned."""
    arrays = _arrays(measured)
    offsets = np.cumsum([0] + [-(-a.nbytes // _ALIGN) * _ALIGN for a in arrays.values()]).tolist()
    body = bytearray(offsets[-1])
    places = []
    for (name, a), at in zip(arrays.items(), offsets[:-1], strict=True):
        body[at : at + a.nbytes] = a.tobytes()
        places.append([name, a.dtype.str, list(a.shape), at])
    languages = {"passages": list(measured.passages), "sentences": list(measured.sentences)}
    counts = {g: [m.count for m in getattr(measured, g).values()] for g in languages}
    described = {"key": key, "arrays": places, "languages": languages, "counts": counts}
    line = json.dumps(described | {"digest": _digest(described, body)}).encode() + b"\n"
    pad = -(len(MAGIC) + len(line)) % _ALIGN
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # processes opening at once each save
    try:
        with tmp.open("wb") as out:
            out.write(MAGIC + line + b" " * pad)
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError:  # a full disk: the part written (megabytes) must not stay there
        tmp.unlink(missing_ok=True)
        raise


def load(path: Path, key: dict[str, Any]) -> Sampled | None:
    """The moments saved at ``path`` for ``key``; None when there are none for it, or the file
    is damaged (logged)."""
    try:
        raw = _mapped(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("cannot read %s (%s); measuring the background again", path.name, exc)
        return None
    try:
        return _parse(raw, key)
    except (ValueError, KeyError, TypeError, IndexError, RecursionError) as exc:  # JSON nested deep
        log.warning("%s is damaged (%s); measuring the background again", path.name, exc)
        return None


def _mapped(path: Path) -> np.ndarray:
    """The file's bytes, memory-mapped read-only: the digest reads them from the page cache with
    no copy (at 100k passages 7 MB, ~5 ms of a cold start read into a new array), and the moments
    are views of them. Safe as the FAISS file's mapping is: ``save`` replaces the file by renaming
    a new one over it, so a mapped one never changes."""
    with open_regular(path) as handle:
        if os.fstat(handle.fileno()).st_size == 0:  # mmap refuses an empty file: damaged, as cut short
            return np.zeros(0, dtype=np.uint8)
        return np.frombuffer(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ), dtype=np.uint8)


def _digest(described: dict[str, Any], body: Any) -> str:
    """xxh3-128 of the header's fields but the digest (canonical JSON) and of the arrays: a
    swapped language name or a changed count is damage like a changed moment."""
    fields = {name: value for name, value in described.items() if name != "digest"}
    digest = xxhash.xxh3_128(json.dumps(fields, sort_keys=True).encode())
    digest.update(body)
    return digest.hexdigest()


def _parse(raw: np.ndarray, key: dict[str, Any]) -> Sampled | None:
    if raw[: len(MAGIC)].tobytes() != MAGIC:
        raise ValueError("not a background moments file")
    end = raw[:_HEADER_MAX].tobytes().find(b"\n", len(MAGIC))
    if end < 0:
        raise ValueError("its header is cut short")
    header = json.loads(raw[len(MAGIC) : end].tobytes())
    if header["key"] != key:
        return None  # another generation's, or another recipe's: not damaged, just not ours
    start = end + 1 + (-(end + 1) % _ALIGN)
    body = raw[start:]
    if _digest(header, body.data) != header["digest"]:
        raise ValueError("its digest does not match its contents")
    arrays = {}
    for name, dtype, shape, at in header["arrays"]:
        size = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        if at < 0 or at + size > len(body):
            raise ValueError(f"array {name} lies outside the file")
        arrays[name] = body[at : at + size].view(dtype).reshape(shape)
    groups = {}
    for group in ("passages", "sentences"):
        langs, counts = header["languages"][group], header["counts"][group]
        groups[group] = {
            lang: Moments(arrays[f"{group}.{i}.mean"], arrays[f"{group}.{i}.covariance"], int(counts[i]))
            for i, lang in enumerate(langs)
        }
    written = int(arrays["sentences_written"][0])
    return Sampled(arrays["ids"], groups["passages"], groups["sentences"], written)


# -- the sample -----------------------------------------------------------------------------
def _languages(ids: np.ndarray, by_language: Mapping[str, np.ndarray]) -> dict[int, str | None]:
    """The language of each of ``ids``, from the per-language id sets an exact index keeps anyway."""
    out: dict[int, str | None] = {}
    for lang, members in by_language.items():
        out.update(dict.fromkeys(ids[np.isin(ids, members)].tolist(), lang))
    return out


def _samples(
    ids: np.ndarray,
    sample: np.ndarray,
    languages: dict[int, str | None],
    sentences: dict[int, np.ndarray],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The sampled passage vectors and their sentences' vectors, per language (``""``: all).
    Sentences only where their passages are enough for a background: thirty sentences of one
    article are one topic, not a background. ``languages`` holds the sampled ids' languages
    only: listing every passage's language costs 0.16 s at 100k passages, 1.6 s at 1M."""
    of_sample = np.array([languages.get(int(i)) or "" for i in ids], dtype=object)
    masks = {ANY_LANGUAGE: np.ones(len(ids), dtype=bool)}
    masks.update({lang: of_sample == lang for lang in sorted(set(of_sample.tolist())) if lang})
    passages = {lang: sample[mask] for lang, mask in masks.items()}
    rows = {
        lang: [sentences[int(i)] for i in ids[mask] if int(i) in sentences] for lang, mask in masks.items()
    }
    dim = sample.shape[1] if sample.ndim == 2 else 0
    return passages, {
        lang: np.concatenate(found) if found else np.empty((0, dim), dtype=np.float32)
        for lang, found in rows.items()
        if int(masks[lang].sum()) >= MIN_BACKGROUND
    }
