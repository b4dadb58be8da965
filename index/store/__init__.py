"""Storage: SQLite (articles, passages, FTS5, embeddings cache, meta) plus FAISS files.

``Store`` reads, ``StoreWriter`` (``store.writer``) stages and publishes generations,
``VectorIndex`` wraps FAISS. This is the seam where another vector engine would plug in.
The package exports the read side only: a process that only answers never loads the writer.
"""

from foreign_desk.index.store.db import Store, StoredPassage
from foreign_desk.index.store.lock import WriterLock

__all__ = ["Store", "StoredPassage", "WriterLock"]
