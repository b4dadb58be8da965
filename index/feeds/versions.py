"""Copy on write: a server's own version of a page that other servers hold too.

A page is stored once, whoever brings it (``store.scopes``), and a server may not change what
another is shown. Before, a server that brought a changed page others held was told "the
stored version is kept" (alone, "updated"), and so learnt that another server holds it. Now
the servers that bring it (a harvest's scopes) get a version of their own (``Article.copy``:
a key and id of its own, granted to them alone) and stop seeing the version they saw once
the new one is published; the others keep theirs. A version they alone see is updated in
place, as before, and the shared corpus's version is the operators' to change (a server
bringing it is granted it as stored: every reader sees that one anyway).

A kill before the new version is published leaves the old one seen; after it, and before the
old one's grant is revoked, the servers see both (never another's): their next fetch of the
page revokes the one it does not update (``Turn.retired``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from foreign_desk.index.engine import Engine

COPY = "#copy:"
"""What joins a page's key and a copy's token (``Article.key``); a canonical URL has no ``#``."""


@dataclass(frozen=True, slots=True)
class Version:
    """One live version of a page: the article itself, or a copy of it some servers hold."""

    uid: str
    key: str
    content_hash: str
    viewers: frozenset[int | None]

    def copy(self) -> str | None:
        """Its ``Article.copy`` token (None: the page's first version)."""
        _, _, token = self.key.partition(COPY)
        return token or None


async def versions(engine: Engine, keys: Sequence[str]) -> dict[str, list[Version]]:
    """The live versions of each page of ``keys`` (base keys) with who sees them, oldest first."""
    found = await engine.versions(keys)
    viewers = await engine.viewers([uid for rows in found.values() for _, uid, _ in rows])
    return {
        base: [Version(uid, key, digest, frozenset(viewers.get(uid, ()))) for key, uid, digest in rows]
        for base, rows in found.items()
    }


def seen_by(found: Sequence[Version], scopes: Collection[int | None]) -> list[Version]:
    """The versions any of ``scopes`` (servers) sees, oldest first."""
    return [v for v in found if v.viewers & set(scopes)]


def copy_token(base: str, scopes: Collection[int | None]) -> str:
    """The token of the copy ``scopes`` (servers) make of the version ``base``: the same for two
    items of a commit, or two commits, bringing the page for them (one copy, the same key)."""
    guilds = ",".join(sorted(str(g) for g in scopes))
    return hashlib.sha1(f"{base}:{guilds}".encode()).hexdigest()[:16]


def retired(turns: Mapping[str, Sequence[str]], live: Collection[str]) -> list[str]:
    """The versions to revoke from a harvest's servers: for each version it left them seeing
    (an id of ``turns``, once ``live``), the others they saw of that page."""
    return [old for uid, olds in turns.items() if uid in live for old in olds if old != uid]
