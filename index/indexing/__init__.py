"""Indexing: files or fetched articles → a new published generation, in named stages
(``prepare`` → ``plan`` → ``embed`` → ``stage`` → ``build`` → ``publish``; see ``indexer``)."""

from foreign_desk.index.indexing.indexer import Indexer
from foreign_desk.index.indexing.prepare import Prepared, prepare

__all__ = ["Indexer", "Prepared", "prepare"]
