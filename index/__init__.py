"""Foreign Desk's engine: corpus readers, cleaning, chunking, embedding, storage and search.

Nothing here knows about Discord or the terminal; the front ends in ``bot`` call into
``index.engine.Engine``. Importing this package is cheap on purpose: heavy libraries
(FAISS, the embedding models, trafilatura) load only where they are used.
"""
