"""The SQLite schema as numbered migrations, applied in order, each in one transaction.

Generations: every article and passage row carries ``gen_added`` and ``gen_removed``.
A reader pinned to generation G sees a row when ``gen_added <= G`` and
``gen_removed IS NULL OR gen_removed > G``. A writer prepares generation G+1 next to the
live one and publishes it by changing ``meta.generation`` in one transaction.

``sentence_embeddings`` holds, per passage embedding key, the vectors of the passage's
sentences (float16, in ``split_sentences`` order): they let search highlight the best
sentence across languages without running the model while a user waits.

``articles.key`` is an article's identity (``Article.key``: a page's canonical URL), its ``url``
the address a citation links (``Article.address``, as the page gave it; stores written before
links were kept hold the canonical URL there too).

Version 3 created the feed tables; they belong to the feeds now (``index.feeds.schema``, with
their own migrations table), so the store's next migration is 4, never 3 again: databases made
before the split have 3 recorded here.
"""

from __future__ import annotations

_SHARED_ARTICLE = (
    "EXISTS (SELECT 1 FROM articles a JOIN article_scopes s ON s.uid = a.uid AND s.guild_id = 0 "
    "WHERE a.id = new.article_id)"
)
"""Trigger condition: the new passage's article is in the shared corpus."""


def _move(source: str, target: str, row: str, unshared: int) -> str:
    """Trigger body: move the passages of scope row ``row``'s uid from FTS table ``source``
    (where ``passages.unshared`` is ``unshared``) to ``target``."""
    of_uid = (
        f"FROM passages p JOIN articles a ON a.id = p.article_id WHERE a.uid = {row}.uid "
        f"AND p.unshared = {unshared}"
    )
    return f"""
            INSERT INTO {source}({source}, rowid, context, text)
                SELECT 'delete', p.id, p.context, p.text {of_uid};
            INSERT INTO {target}(rowid, context, text) SELECT p.id, p.context, p.text {of_uid};
            UPDATE passages SET unshared = {1 - unshared} WHERE id IN (SELECT p.id {of_uid});"""


OWN_SLOT = 1 << 40
"""Rowids of ``own_guild_fts``: a server's slot (``own_guilds``) times this, plus the passage id,
so one server's rows are one rowid range FTS5 seeks to (passage ids stay below 2**40)."""


def _owners_rows(passage: str) -> str:
    """FROM clause: each server owning ``passage`` (a trigger's ``new``/``old`` passage row), with
    its slot ``g``."""
    return (
        "FROM articles a JOIN article_scopes s ON s.uid = a.uid "
        f"JOIN own_guilds g ON g.guild_id = s.guild_id WHERE a.id = {passage}.article_id"
    )


def _of_grant(row: str) -> str:
    """FROM clause: the unshared passages of scope row ``row``'s uid, with its server's slot ``g``."""
    return (
        f"FROM own_guilds g JOIN articles a ON a.uid = {row}.uid JOIN passages p ON p.article_id = a.id "
        f"WHERE g.guild_id = {row}.guild_id AND p.unshared = 1"
    )


OWN_GUILD_ROWS = (
    f"SELECT g.slot * {OWN_SLOT} + p.id, p.context, p.text FROM own_guilds g\n"
    "            JOIN article_scopes s ON s.guild_id = g.guild_id JOIN articles a ON a.uid = s.uid\n"
    "            JOIN passages p ON p.article_id = a.id WHERE p.unshared = 1"
)
"""The rows ``own_guild_fts`` holds (rowid, context, text): each server's unshared passages in its
slot's range. Migration 11 indexed them; ``keyword_check`` compares the table with them and
indexes them again to repair it."""


FTS_HASH_BYTES = 16 * 1024 * 1024
"""New index rows FTS5 keeps in memory within a transaction before writing them out as a segment
(its default: 1 MB). An indexing run's staging commits (``STAGE_BATCH`` articles) then write one
segment each instead of one per MB, and merging rewrites fewer (at 100k passages, SQLite's CPU
25.6 → 23.2 s). Only a writer holds these rows, for one transaction at most."""


MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE articles (
            id           INTEGER PRIMARY KEY,
            uid          TEXT NOT NULL,
            key          TEXT NOT NULL,
            title        TEXT NOT NULL,
            source       TEXT,
            url          TEXT,
            published    TEXT,
            language     TEXT,
            author       TEXT,
            path         TEXT,
            locator      TEXT,
            lede         TEXT NOT NULL DEFAULT '',
            content_hash TEXT NOT NULL,
            added_at     TEXT NOT NULL,
            gen_added    INTEGER NOT NULL,
            gen_removed  INTEGER
        );
        CREATE INDEX articles_key ON articles(key);
        CREATE INDEX articles_uid ON articles(uid);
        CREATE INDEX articles_published ON articles(published);
        CREATE INDEX articles_path ON articles(path);
        CREATE TABLE passages (
            id          INTEGER PRIMARY KEY,
            article_id  INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            ordinal     INTEGER NOT NULL,
            section     TEXT,
            paragraphs  TEXT NOT NULL,
            text        TEXT NOT NULL,
            context     TEXT NOT NULL,
            vector_key  TEXT NOT NULL,
            gen_added   INTEGER NOT NULL,
            gen_removed INTEGER
        );
        CREATE INDEX passages_article ON passages(article_id);
        CREATE INDEX passages_vector ON passages(vector_key);
        CREATE INDEX passages_gen ON passages(gen_removed, gen_added);
        CREATE TABLE embeddings (
            key    TEXT PRIMARY KEY,
            vector BLOB NOT NULL
        ) WITHOUT ROWID;
        CREATE VIRTUAL TABLE passages_fts USING fts5(
            context, text,
            content='passages', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2'
        );
        CREATE VIRTUAL TABLE passages_vocab USING fts5vocab(passages_fts, 'row');
        CREATE TRIGGER passages_fts_insert AFTER INSERT ON passages BEGIN
            INSERT INTO passages_fts(rowid, context, text) VALUES (new.id, new.context, new.text);
        END;
        CREATE TRIGGER passages_fts_delete AFTER DELETE ON passages BEGIN
            INSERT INTO passages_fts(passages_fts, rowid, context, text)
            VALUES ('delete', old.id, old.context, old.text);
        END;
        """,
    ),
    (
        2,
        """
        CREATE TABLE sentence_embeddings (
            key     TEXT PRIMARY KEY,
            count   INTEGER NOT NULL,
            vectors BLOB NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
    (
        4,
        # Who may see each article (not generational: an article keeps its id across versions):
        # guild_id 0 is the shared corpus, any other a server whose own feeds or pages brought it.
        # An article without a row is seen by nobody. Every article indexed so far is shared.
        """
        CREATE TABLE article_scopes (
            uid      TEXT NOT NULL,
            guild_id INTEGER NOT NULL,
            added_at REAL NOT NULL,
            PRIMARY KEY (uid, guild_id)
        ) WITHOUT ROWID;
        CREATE INDEX article_scopes_guild ON article_scopes(guild_id, added_at);
        INSERT OR IGNORE INTO article_scopes(uid, guild_id, added_at)
            SELECT DISTINCT uid, 0, 0 FROM articles;
        """,
    ),
    (
        5,
        # Any change to who may see what, by any process or connection, bumps scopes_version:
        # remembered answers (``answer_cache``) are keyed by it beside the generation.
        """
        INSERT OR IGNORE INTO meta(key, value) VALUES ('scopes_version', '0');
        CREATE TRIGGER article_scopes_granted AFTER INSERT ON article_scopes BEGIN
            UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'scopes_version';
        END;
        CREATE TRIGGER article_scopes_revoked AFTER DELETE ON article_scopes BEGIN
            UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'scopes_version';
        END;
        """,
    ),
    (
        6,
        # Vectors in rowid tables. As WITHOUT ROWID tables (b-tree indexes), every row above
        # ~1 KB kept 489 bytes in its page and spilled the rest to an overflow page of its own:
        # a 1.5 KB passage vector took ~3x its size, and so did sentence vectors. A rowid table
        # keeps rows up to ~4 KB in its pages (two passage vectors a page); the key is a UNIQUE
        # index, so every statement on these tables (INSERT OR IGNORE / OR REPLACE, lookups by
        # key) is unchanged, and a store migrated here still opens with older code. One
        # transaction: a kill leaves the old tables. The old pages are given back by a VACUUM
        # at the next open (``COMPACT_KEY``).
        """
        CREATE TABLE embeddings_v6 (
            key    TEXT PRIMARY KEY,
            vector BLOB NOT NULL
        );
        INSERT INTO embeddings_v6(key, vector) SELECT key, vector FROM embeddings ORDER BY key;
        DROP TABLE embeddings;
        ALTER TABLE embeddings_v6 RENAME TO embeddings;
        CREATE TABLE sentence_embeddings_v6 (
            key     TEXT PRIMARY KEY,
            count   INTEGER NOT NULL,
            vectors BLOB NOT NULL
        );
        INSERT INTO sentence_embeddings_v6(key, count, vectors)
            SELECT key, count, vectors FROM sentence_embeddings ORDER BY key;
        DROP TABLE sentence_embeddings;
        ALTER TABLE sentence_embeddings_v6 RENAME TO sentence_embeddings;
        INSERT OR REPLACE INTO meta(key, value)
            SELECT 'compact_pending', '6' WHERE EXISTS (SELECT 1 FROM embeddings);
        """,
    ),
    (
        7,
        # Keyword statistics of the shared corpus alone (``store.own_keywords``): passages of
        # articles the shared corpus has (a guild 0 scope row) are indexed in passages_fts, all
        # others (servers' own, or nobody's) in own_fts, so no server's articles change the
        # document frequencies, row count or lengths every server's BM25 uses. ``unshared``
        # says which table holds a passage (its delete trigger cannot ask the scopes: they may
        # be gone); scope changes move a uid's passages between the tables. Staging grants an
        # article its scopes before inserting its passages, so nothing is moved then.
        f"""
        ALTER TABLE passages ADD COLUMN unshared INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX passages_unshared ON passages(id) WHERE unshared = 1;
        CREATE VIRTUAL TABLE own_fts USING fts5(
            context, text,
            content='passages', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2'
        );
        CREATE VIRTUAL TABLE own_fts_instance USING fts5vocab(own_fts, 'instance');
        UPDATE passages SET unshared = 1 WHERE article_id IN (
            SELECT a.id FROM articles a WHERE NOT EXISTS (
                SELECT 1 FROM article_scopes s WHERE s.uid = a.uid AND s.guild_id = 0
            )
        );
        INSERT INTO passages_fts(passages_fts, rowid, context, text)
            SELECT 'delete', id, context, text FROM passages WHERE unshared = 1;
        INSERT INTO own_fts(rowid, context, text) SELECT id, context, text FROM passages WHERE unshared = 1;
        DROP TRIGGER passages_fts_insert;
        DROP TRIGGER passages_fts_delete;
        CREATE TRIGGER passages_fts_insert AFTER INSERT ON passages WHEN {_SHARED_ARTICLE} BEGIN
            INSERT INTO passages_fts(rowid, context, text) VALUES (new.id, new.context, new.text);
        END;
        CREATE TRIGGER own_fts_insert AFTER INSERT ON passages WHEN NOT {_SHARED_ARTICLE} BEGIN
            INSERT INTO own_fts(rowid, context, text) VALUES (new.id, new.context, new.text);
            UPDATE passages SET unshared = 1 WHERE id = new.id;
        END;
        CREATE TRIGGER passages_fts_delete AFTER DELETE ON passages WHEN old.unshared = 0 BEGIN
            INSERT INTO passages_fts(passages_fts, rowid, context, text)
            VALUES ('delete', old.id, old.context, old.text);
        END;
        CREATE TRIGGER own_fts_delete AFTER DELETE ON passages WHEN old.unshared = 1 BEGIN
            INSERT INTO own_fts(own_fts, rowid, context, text)
            VALUES ('delete', old.id, old.context, old.text);
        END;
        CREATE TRIGGER article_scopes_shared AFTER INSERT ON article_scopes WHEN new.guild_id = 0 BEGIN
            {_move("own_fts", "passages_fts", "new", 1)}
        END;
        CREATE TRIGGER article_scopes_unshared AFTER DELETE ON article_scopes WHEN old.guild_id = 0 BEGIN
            {_move("passages_fts", "own_fts", "old", 0)}
        END;
        DELETE FROM meta WHERE key = 'languages' AND EXISTS (SELECT 1 FROM passages WHERE unshared = 1);
        """,
    ),
    (
        8,
        # The links (to folders or files) indexing runs read through: where each link is (its
        # folder resolved, its own name) and the real path it led to. Articles carry their real
        # path, so once a link is removed only this says that ``--prune`` must drop them.
        """
        CREATE TABLE corpus_links (
            link   TEXT PRIMARY KEY,
            target TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
    (
        9,
        # FTS5 settings live in the tables' own ``_config`` rows: set once, every connection reads them.
        f"""
        INSERT INTO passages_fts(passages_fts, rank) VALUES ('hashsize', {FTS_HASH_BYTES});
        INSERT INTO own_fts(own_fts, rank) VALUES ('hashsize', {FTS_HASH_BYTES});
        """,
    ),
    (
        10,
        # The outlet's calendar day when it is not the UTC day of ``published`` (``Article.local_day``);
        # empty in rows stored before, which then show and filter by the UTC day as they did.
        """
        ALTER TABLE articles ADD COLUMN local_day TEXT;
        """,
    ),
    (
        11,
        # Each server's own passages in a keyword index of their own (``store.own_keywords``): a
        # server's keyword search read every server's matches in own_fts and kept its own, so its
        # cost grew with other servers' articles. ``own_guild_fts`` holds one row per (server,
        # passage it owns): rowid ``slot * OWN_SLOT + passage id``, so a server's rows are one
        # rowid range. Contentless: a row is deleted with the values it was inserted with (a
        # passage's never change). Its rows follow ``passages.unshared`` and the scope rows of
        # servers (guild_id > 0): granted or revoked, made unshared or shared, deleted. own_fts
        # stays: scoring reads it. Existing servers' passages are indexed here.
        f"""
        CREATE TABLE own_guilds (
            slot     INTEGER PRIMARY KEY,
            guild_id INTEGER NOT NULL UNIQUE
        );
        CREATE VIRTUAL TABLE own_guild_fts USING fts5(
            context, text, content='', tokenize='unicode61 remove_diacritics 2'
        );
        INSERT INTO own_guild_fts(own_guild_fts, rank) VALUES ('hashsize', {FTS_HASH_BYTES});
        INSERT INTO own_guilds(guild_id)
            SELECT DISTINCT guild_id FROM article_scopes WHERE guild_id > 0 ORDER BY guild_id;
        INSERT INTO own_guild_fts(rowid, context, text)
            {OWN_GUILD_ROWS};
        CREATE TRIGGER own_guild_granted AFTER INSERT ON article_scopes WHEN new.guild_id > 0 BEGIN
            INSERT OR IGNORE INTO own_guilds(guild_id) VALUES (new.guild_id);
            INSERT INTO own_guild_fts(rowid, context, text)
                SELECT g.slot * {OWN_SLOT} + p.id, p.context, p.text {_of_grant("new")};
        END;
        CREATE TRIGGER own_guild_revoked AFTER DELETE ON article_scopes WHEN old.guild_id > 0 BEGIN
            INSERT INTO own_guild_fts(own_guild_fts, rowid, context, text)
                SELECT 'delete', g.slot * {OWN_SLOT} + p.id, p.context, p.text {_of_grant("old")};
        END;
        CREATE TRIGGER own_guild_unshared AFTER UPDATE OF unshared ON passages
        WHEN new.unshared = 1 AND old.unshared = 0 BEGIN
            INSERT INTO own_guild_fts(rowid, context, text)
                SELECT g.slot * {OWN_SLOT} + new.id, new.context, new.text {_owners_rows("new")};
        END;
        CREATE TRIGGER own_guild_shared AFTER UPDATE OF unshared ON passages
        WHEN new.unshared = 0 AND old.unshared = 1 BEGIN
            INSERT INTO own_guild_fts(own_guild_fts, rowid, context, text)
                SELECT 'delete', g.slot * {OWN_SLOT} + old.id, old.context, old.text {_owners_rows("old")};
        END;
        CREATE TRIGGER own_guild_delete AFTER DELETE ON passages WHEN old.unshared = 1 BEGIN
            INSERT INTO own_guild_fts(own_guild_fts, rowid, context, text)
                SELECT 'delete', g.slot * {OWN_SLOT} + old.id, old.context, old.text {_owners_rows("old")};
        END;
        """,
    ),
)

SLOW_MIGRATIONS = {
    11: (
        "SELECT count(*) FROM passages WHERE unshared = 1",
        "indexing {n:,} passage(s) of servers' own articles by server, once after a schema migration "
        "(about a second per 10,000)",
    ),
}
"""Said before they run (``sqlite.migrate``): migration 11 indexes every server's own passages
again (~1.6 s for 18,000 of them)."""

COMPACT_KEY = "compact_pending"
VECTOR_IDS_KEY = "vectors_ids"
"""``<vector file checksum> <count> <sum of ids>`` of the FAISS ids, counted when publishing wrote
that file: opening a file with that checksum compares these with the passages instead of
reading every id again (30-80 ms at 1M passages)."""
"""Set in ``meta`` by a migration that frees much of the file; the store is vacuumed once at
the next open and the key removed (a kill before that leaves it set: the next open does it)."""

VISIBLE = "{t}.gen_added <= :gen AND ({t}.gen_removed IS NULL OR {t}.gen_removed > :gen)"
"""SQL condition: row of table alias ``t`` is visible at generation ``:gen``."""


def visible(alias: str) -> str:
    return VISIBLE.format(t=alias)


LANGUAGE_STATS_SQL = (
    "SELECT coalesce(a.language, ''), count(*), coalesce(sum(p.id), 0), "
    "count(CASE WHEN p.unshared = 0 THEN a.id END) "
    f"FROM passages p LEFT JOIN articles a ON a.id = p.article_id WHERE {visible('p')} GROUP BY 1 ORDER BY 1"
)
"""Per article language of the passages visible at ``:gen``: how many, the sum of their ids, and
how many of the shared corpus's have an article row (a language counts only with one: servers'
own passages must not make everyone's approximate search deeper). Publishing records the totals
(``id_stats``) and the languages, so opening a generation reads them instead of scanning."""
