"""Before planning: articles read from files (or handed over) → cleaned, chunked, hashed.

Blocking and CPU-bound: callers run it in a thread.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from foreign_desk.index.article import Article, ReadProblem
from foreign_desk.index.chunk import MAX_CONTEXT_CHARS, chunk_article
from foreign_desk.index.clean import clean_article
from foreign_desk.index.config import ChunkingSettings, Settings
from foreign_desk.index.models import Passage
from foreign_desk.index.readers import discover, read_path
from foreign_desk.index.readers.notes import Note, kept, say
from foreign_desk.index.text import iter_sentences, split_sentences

CHUNKER_VERSION = "1"
"""Part of every content hash: bump it when chunking changes, so every article is re-chunked."""
PASSAGE_RECIPE = "lines-1"
"""How a passage vector is made (``indexing/embed.py``: the normalized sum of its lines'
vectors). Part of every content hash and passage key: a new recipe re-embeds every article."""
LEDE_CHARS = 300
"""The lede ``latest`` shows: the first sentence, cut here so a run-on sentence stays one line."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """An article ready to store: cleaned, chunked, hashed."""

    article: Article
    passages: tuple[Passage, ...]
    contexts: tuple[str, ...]
    sentences: tuple[tuple[str, ...], ...]
    """Each passage's sentences: with its context's lines, what its vector is made of."""
    lede: str
    content_hash: str
    notes: tuple[Note, ...] = ()
    """What its reader said of it (``readers.notes``): said when the run stages it."""


def passage_sentences(text: str) -> tuple[str, ...]:
    """The sentences of a passage's text (the text itself when it has none)."""
    return tuple(split_sentences(text)) or (text,)


def embed_context(article: Article, passage: Passage) -> str:
    """What the embedder sees before a passage's text: the headline and section heading (each
    cut at ``MAX_CONTEXT_CHARS``: a 200 KB "headline" is not a line to embed)."""
    return "\n".join(part for part in (article.title[:MAX_CONTEXT_CHARS], passage.section) if part)


def _fields(obj: Any) -> dict[str, object]:
    """What ``asdict(obj)`` gives for a dataclass of plain values, without its deep copies
    (which took a third of ``prepare``'s time)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


_HASHED_JSON = json.JSONEncoder(sort_keys=True, default=str, check_circular=False)
"""What ``json.dumps(payload, sort_keys=True, default=str)`` writes, made once: the content hash
is of exactly that text (a change to it re-embeds every stored article). The payload is plain
data built here, never circular, so the check for cycles (40% of the encoding) is left out."""


def content_hash(article: Article, chunking: ChunkingSettings) -> str:
    """What decides an article's passages and vectors, hashed: its cleaned text and metadata
    (not where in a file it was), the chunking settings, the chunker and the passage recipe."""
    blocks = [{"text": b.text, "kind": b.kind} for b in article.blocks]
    described = _fields(article)
    del described["copy"]  # which version of a page it is (its key), not what it says
    for optional in ("local_day", "link"):  # hashed as before these fields: those articles stay unchanged
        if described[optional] is None:
            del described[optional]
    payload = {
        "article": described | {"blocks": blocks, "path": None, "locator": None},
        "chunking": _fields(chunking),
        "chunker": CHUNKER_VERSION,
        "passage_vectors": PASSAGE_RECIPE,
    }
    return hashlib.sha1(_HASHED_JSON.encode(payload).encode("utf-8")).hexdigest()


def prepare(article: Article, settings: Settings) -> Prepared | ReadProblem:
    """Clean and chunk one article; an article left with no text is a problem, not an error."""
    cleaned = clean_article(article)
    passages = tuple(chunk_article(cleaned, settings.chunking))
    where = f"{article.path or article.url or article.title}"
    if not passages:
        return ReadProblem(where, "no article text left after removing boilerplate")
    lede = next((b.text for b in cleaned.blocks if b.kind != "heading"), "")
    lede = next(iter_sentences(lede), lede)[:LEDE_CHARS]
    contexts = tuple(embed_context(cleaned, p) for p in passages)
    sentences = tuple(passage_sentences(p.text) for p in passages)
    return Prepared(cleaned, passages, contexts, sentences, lede, content_hash(cleaned, settings.chunking))


def _where(found: ReadProblem) -> str:
    """The real path of what a walk could not read, for ``troubled``: its folder resolved, not
    the link it names (a loop's target holds the corpus: keeping all of that would stop
    ``--prune`` for good); an unlistable folder is reported by its real path already."""
    folder, name = os.path.split(found.path)
    return os.path.join(os.path.realpath(folder), name)


class CorpusReader:
    """The prepared articles under ``paths``, one at a time as their files are read (blocking),
    so a run holds only the articles it is working on. Reading records the ``problems`` and
    the files and folders that had them (``troubled``: their old articles must not be dropped),
    and adds the real folders of the linked folders it walks to ``scope``; an article read
    twice (same key) is a problem the second time ("same article as ...")."""

    def __init__(
        self,
        paths: Sequence[str | Path],
        settings: Settings,
        on_file: Callable[[int, int], None] | None = None,
        problems: list[ReadProblem] | None = None,
        scope: list[Path] | None = None,
    ) -> None:
        self.paths = paths
        self.settings = settings
        self.on_file = on_file
        self.problems = problems if problems is not None else []
        self.troubled: set[str] = set()
        self.scope = scope if scope is not None else []
        self.links: dict[str, Path] = {}
        """The links read through (where → real path), filled when reading starts."""
        self.files = 0
        """The article files found, once reading starts."""
        self.others: Counter[str] = Counter()
        """The files of types no reader takes, by type, once reading starts."""
        self.seen = 0
        """Articles read so far (not counting problems and duplicates)."""

    def __iter__(self) -> Iterator[Prepared]:
        files, problems = discover(self.paths, self.links, self.others)
        self.files = len(files)
        self.scope.extend(self.links.values())
        self.problems.extend(problems)
        self.troubled.update(_where(p) for p in problems)
        from foreign_desk.index.indexing import reading_process

        if reading_process.worth_it(files, self.settings.index.reading_process_bytes):
            yield from reading_process.read(self, files)
        else:
            yield from self.read(files)

    def read(self, files: Sequence[Path]) -> Iterator[Prepared]:
        """The prepared articles of ``files`` (discovered), read here."""
        seen: dict[str, str] = {}
        for n, path in enumerate(files, 1):
            for item, notes in _noted(read_path(path)):
                if isinstance(item, ReadProblem):
                    self.problems.append(item)
                    self.troubled.add(str(path))
                    say(notes)
                    continue
                result = prepare(item, self.settings)
                if isinstance(result, ReadProblem):
                    self.problems.append(result)
                    self.troubled.add(str(path))
                    say(notes)
                    continue
                key = result.article.key
                if key in seen:
                    self.problems.append(
                        ReadProblem(str(path), f"same article as {seen[key]} (skipped)", None)
                    )
                    say(notes)
                    continue
                seen[key] = f"{path}" + (f" {item.locator}" if item.locator else "")
                self.seen += 1
                yield replace(result, notes=tuple(notes)) if notes else result
            if self.on_file:
                self.on_file(n, len(files))


T = TypeVar("T")


def _noted(items: Iterator[T]) -> Iterator[tuple[T, list[Note]]]:
    """Each of a reader's ``items`` with the notes it said while reading it (a file's own, such
    as its encoding, go with its first article). Each step is collected in the thread that
    takes it: a run reads a file's articles in more than one worker thread."""
    while True:
        with kept() as notes:
            item = next(items, None)
        if item is None:
            say(notes)  # said after its last article: of no one article
            return
        yield item, notes
