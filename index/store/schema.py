"""The SQLite schema as numbered migrations, applied in order, each in one transaction.

Generations: every article and passage row carries ``gen_added`` and ``gen_removed``.
A reader pinned to generation G sees a row when ``gen_added <= G`` and
``gen_removed IS NULL OR gen_removed > G``. A writer prepares generation G+1 next to the
live one and publishes it by changing ``meta.generation`` in one transaction.

``sentence_embeddings`` holds, per passage embedding key, the vectors of the passage's
sentences (float16, in ``split_sentences`` order): they let search highlight the best
sentence across languages without running the model while a user waits.
"""

from __future__ import annotations

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
        3,
        # Feeds, what their items became (dedupe memory), and topic follows with their matches.
        # Times a scheduler compares (next_poll, matched_at, posted_at) are Unix seconds; times
        # people read are ISO strings.
        """
        CREATE TABLE feeds (
            id            INTEGER PRIMARY KEY,
            name          TEXT NOT NULL COLLATE NOCASE UNIQUE,
            url           TEXT NOT NULL UNIQUE,
            source        TEXT,
            language      TEXT,
            every_minutes INTEGER NOT NULL,
            etag          TEXT,
            last_modified TEXT,
            added_at      TEXT NOT NULL,
            last_polled   TEXT,
            last_success  TEXT,
            last_error    TEXT,
            failures      INTEGER NOT NULL DEFAULT 0,
            next_poll     REAL NOT NULL DEFAULT 0
        );
        CREATE TABLE feed_items (
            id          INTEGER PRIMARY KEY,
            feed_id     INTEGER REFERENCES feeds(id) ON DELETE SET NULL,
            ident       TEXT NOT NULL,
            url         TEXT,
            article_url TEXT,
            item_hash   TEXT NOT NULL DEFAULT '',
            text_hash   TEXT,
            source      TEXT,
            article_uid TEXT,
            status      TEXT NOT NULL,
            error       TEXT,
            attempts    INTEGER NOT NULL DEFAULT 0,
            first_seen  TEXT NOT NULL,
            last_seen   TEXT NOT NULL
        );
        CREATE UNIQUE INDEX feed_items_ident ON feed_items(feed_id, ident);
        CREATE INDEX feed_items_url ON feed_items(url);
        CREATE INDEX feed_items_article_url ON feed_items(article_url);
        CREATE INDEX feed_items_text ON feed_items(text_hash);
        CREATE TABLE follows (
            id          INTEGER PRIMARY KEY,
            channel_id  INTEGER NOT NULL,
            guild_id    INTEGER,
            topic       TEXT NOT NULL,
            vector      BLOB NOT NULL,
            fingerprint TEXT NOT NULL,
            created_by  INTEGER,
            created_at  TEXT NOT NULL
        );
        CREATE UNIQUE INDEX follows_channel_topic ON follows(channel_id, topic COLLATE NOCASE);
        CREATE TABLE follow_matches (
            follow_id   INTEGER NOT NULL REFERENCES follows(id) ON DELETE CASCADE,
            article_uid TEXT NOT NULL,
            similarity  REAL NOT NULL,
            matched_at  REAL NOT NULL,
            posted_at   REAL,
            PRIMARY KEY (follow_id, article_uid)
        ) WITHOUT ROWID;
        CREATE INDEX follow_matches_pending ON follow_matches(posted_at, follow_id);
        """,
    ),
)

VISIBLE = "{t}.gen_added <= :gen AND ({t}.gen_removed IS NULL OR {t}.gen_removed > :gen)"
"""SQL condition: row of table alias ``t`` is visible at generation ``:gen``."""


def visible(alias: str) -> str:
    return VISIBLE.format(t=alias)
