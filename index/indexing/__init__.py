"""Indexing: files or fetched articles → a new published generation, in named stages
(``prepare`` → ``plan`` → ``embed`` → ``stage`` → ``build`` → ``publish``; see ``indexer``).

Nothing is imported here: the process that reads a large corpus for a run
(``reading_process``) imports the reading code alone, not the indexer's FAISS and SQLite."""
