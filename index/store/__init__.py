"""Storage: SQLite (articles, passages, FTS5, embeddings cache, meta) plus FAISS files.

``Store`` reads, ``StoreWriter`` stages and publishes generations, ``VectorIndex`` wraps FAISS.
This is the seam where another vector engine would plug in.
"""

from foreign_desk.index.store.db import Store, StoredPassage
from foreign_desk.index.store.lock import WriterLock
from foreign_desk.index.store.writer import ExistingArticle, StoreWriter

__all__ = ["ExistingArticle", "Store", "StoreWriter", "StoredPassage", "WriterLock"]
