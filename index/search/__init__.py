"""Search: a question → cited passages, in named stages (see ``searcher``).

``Searcher`` runs them for the engine; ``SearchRequest`` is what one search asks for;
``Snapshot`` is the generation it reads; ``topics`` answers "recent articles about X".
"""

from foreign_desk.index.search.request import SearchRequest
from foreign_desk.index.search.retrieve import match_expression, query_terms
from foreign_desk.index.search.searcher import Searcher
from foreign_desk.index.search.snapshot import Snapshot

__all__ = ["SearchRequest", "Searcher", "Snapshot", "match_expression", "query_terms"]
