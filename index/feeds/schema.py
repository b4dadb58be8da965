"""The feeds' tables, as numbered migrations of their own (recorded in ``feed_schema_migrations``).

They share the store's database file but not its migrations: the store may change its tables
without touching these, and the other way round. Databases made before the split got these
tables from the store's migration 3, so migration 1 creates only what is missing.
Times a scheduler compares (next_poll, matched_at, posted_at) are Unix seconds; times people
read are ISO strings.
"""

from __future__ import annotations

MIGRATIONS_TABLE = "feed_schema_migrations"

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        # Feeds, what their items became (dedupe memory), and topic follows with their matches.
        """
        CREATE TABLE IF NOT EXISTS feeds (
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
        CREATE TABLE IF NOT EXISTS feed_items (
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
        CREATE UNIQUE INDEX IF NOT EXISTS feed_items_ident ON feed_items(feed_id, ident);
        CREATE INDEX IF NOT EXISTS feed_items_url ON feed_items(url);
        CREATE INDEX IF NOT EXISTS feed_items_article_url ON feed_items(article_url);
        CREATE INDEX IF NOT EXISTS feed_items_text ON feed_items(text_hash);
        CREATE TABLE IF NOT EXISTS follows (
            id          INTEGER PRIMARY KEY,
            channel_id  INTEGER NOT NULL,
            guild_id    INTEGER,
            topic       TEXT NOT NULL,
            vector      BLOB NOT NULL,
            fingerprint TEXT NOT NULL,
            created_by  INTEGER,
            created_at  TEXT NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS follows_channel_topic ON follows(channel_id, topic COLLATE NOCASE);
        CREATE TABLE IF NOT EXISTS follow_matches (
            follow_id   INTEGER NOT NULL REFERENCES follows(id) ON DELETE CASCADE,
            article_uid TEXT NOT NULL,
            similarity  REAL NOT NULL,
            matched_at  REAL NOT NULL,
            posted_at   REAL,
            PRIMARY KEY (follow_id, article_uid)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS follow_matches_pending ON follow_matches(posted_at, follow_id);
        """,
    ),
    (
        2,
        # One-time facts of the feeds (``feeds_seeded``), kept until now in the store's meta table.
        """
        CREATE TABLE feed_flags (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        INSERT INTO feed_flags(key, value) SELECT key, value FROM meta WHERE key = 'feeds_seeded';
        """,
    ),
    (
        3,
        # Alert claims (``feeds.claims``): a post is claimed under a nonce before it is sent.
        """
        CREATE TABLE alert_claims (
            nonce         TEXT PRIMARY KEY,
            channel_id    INTEGER NOT NULL,
            claimed_at    REAL NOT NULL,
            sending_since REAL,
            attempts      INTEGER NOT NULL DEFAULT 0,
            retry_at      REAL NOT NULL DEFAULT 0
        );
        ALTER TABLE follow_matches ADD COLUMN claim TEXT;
        CREATE INDEX follow_matches_claim ON follow_matches(claim);
        """,
    ),
    (
        4,
        # Whose feeds: a feed is polled once however many subscribe to it; ``feed_scopes`` says
        # who does (guild_id 0: the shared corpus, else a server) and under which name. What its
        # items bring is seen by its subscribers. A server's pages ingested per hour (a quota)
        # and when the bot left a server (its feeds and articles are forgotten later).
        """
        CREATE TABLE feed_scopes (
            feed_id  INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
            guild_id INTEGER NOT NULL,
            name     TEXT NOT NULL,
            added_at TEXT NOT NULL,
            PRIMARY KEY (feed_id, guild_id)
        );
        CREATE UNIQUE INDEX feed_scopes_name ON feed_scopes(guild_id, name COLLATE NOCASE);
        INSERT INTO feed_scopes(feed_id, guild_id, name, added_at) SELECT id, 0, name, added_at FROM feeds;
        CREATE TABLE server_ingests (
            guild_id INTEGER NOT NULL,
            at       REAL NOT NULL
        );
        CREATE INDEX server_ingests_guild ON server_ingests(guild_id, at);
        CREATE TABLE server_departures (
            guild_id INTEGER PRIMARY KEY,
            left_at  REAL NOT NULL
        );
        """,
    ),
    (
        5,
        # The locale of a follow's server ("id", "en-US"): its alerts are written in that language
        # by whichever process posts them. NULL for follows made before.
        """
        ALTER TABLE follows ADD COLUMN locale TEXT;
        """,
    ),
    (
        6,
        # A feed's items are known by their canonical link (``FeedItem.key``), as the feed parser
        # dedupes them, no longer by GUID (some feeds give one GUID to several items). ``url``
        # holds that link: the memory keeps its items, and their pages are not fetched again.
        """
        UPDATE OR IGNORE feed_items SET ident = url
        WHERE feed_id IS NOT NULL AND url IS NOT NULL AND ident <> url;
        """,
    ),
    (
        7,
        # Catch-ups owed: a scope that subscribed to a feed others poll gets what it brought so
        # far (``FeedDesk._catch_up``); the row goes when that is done. ``claimed_at``: when a
        # process last took it on; one that died leaves it to the poller (``resume_catch_ups``).
        """
        CREATE TABLE feed_catch_ups (
            feed_id    INTEGER NOT NULL,
            guild_id   INTEGER NOT NULL,
            claimed_at REAL NOT NULL,
            PRIMARY KEY (feed_id, guild_id),
            FOREIGN KEY (feed_id, guild_id) REFERENCES feed_scopes(feed_id, guild_id) ON DELETE CASCADE
        );
        """,
    ),
    (
        8,
        # Who runs a catch-up: ``owner`` (a desk's token) renews ``claimed_at`` while it runs, so a
        # live one is never taken on by another process, and it stops when another took it on.
        # NULL: claimed before this column (or by nobody yet); any process may take it on when stale.
        # Items no feed remembers (pages ingested, removed feeds'), in order: housekeeping reads
        # them in batches (``FeedDesk.forget_feedless_items``).
        """
        ALTER TABLE feed_catch_ups ADD COLUMN owner TEXT;
        CREATE INDEX feed_items_feedless ON feed_items(id) WHERE feed_id IS NULL;
        """,
    ),
    (
        9,
        # An alert claim whose send may have reached Discord (its sender died sending it:
        # ``Claims.recover``): its matches count as posted, even those its retry leaves out.
        # Claims from before: how they were sent is unknown, so they may have been.
        """
        ALTER TABLE alert_claims ADD COLUMN maybe_posted INTEGER NOT NULL DEFAULT 0;
        UPDATE alert_claims SET maybe_posted = 1;
        """,
    ),
    (
        10,
        # One feed-less item per URL (``ident``): an ingest of the URL read one record and wrote
        # another, and a removed feed's items joined those of pages ingested. Of several, the one
        # that says most stays: stored, then duplicate, then failed; then the one written last
        # (``last_seen``), then the lower id (``state.RANK``; ``orphan_items`` keeps it so when a
        # feed is removed). Not the higher id, as this step first said: an ingest read the
        # highest id's record and wrote the lowest's, so the highest was the one no ingest had
        # written since (a stored one kept the text hash of an older version, and a copy of the
        # page's text at another address became a second article). Databases that ran that first
        # version kept what it kept: the rows it dropped are gone, so no later step can undo it.
        """
        DELETE FROM feed_items AS o WHERE o.feed_id IS NULL AND EXISTS (
            SELECT 1 FROM feed_items n WHERE n.feed_id IS NULL AND n.ident = o.ident
            AND (CASE n.status WHEN 'stored' THEN 2 WHEN 'duplicate' THEN 1 ELSE 0 END, n.last_seen, -n.id)
              > (CASE o.status WHEN 'stored' THEN 2 WHEN 'duplicate' THEN 1 ELSE 0 END, o.last_seen, -o.id)
        );
        CREATE UNIQUE INDEX feed_items_feedless_ident ON feed_items(ident) WHERE feed_id IS NULL;
        """,
    ),
    (
        11,
        # When the first send of an alert claim that may have reached Discord began (``Claims``):
        # Discord remembers its nonce a few minutes from then, so it is resent only until
        # ``resend_within_s`` after. Claims from before that may have posted: from their claim.
        """
        ALTER TABLE alert_claims ADD COLUMN maybe_since REAL;
        UPDATE alert_claims SET maybe_since = claimed_at WHERE maybe_posted = 1;
        """,
    ),
    (
        12,
        # A channel follows a topic once in any case of any script (``TÜRKIYE`` is ``Türkiye``):
        # ``topic_key`` is ``text.caseless(topic)`` (the SQL function ``StateDB`` registers), unique
        # per channel; NOCASE folded ASCII only. Topics followed twice before keep their rows, the
        # later ones keyed apart (a line break and their id, which no topic holds).
        """
        ALTER TABLE follows ADD COLUMN topic_key TEXT;
        UPDATE follows SET topic_key = caseless(topic);
        UPDATE follows SET topic_key = topic_key || char(10) || id WHERE EXISTS (
            SELECT 1 FROM follows o
            WHERE o.channel_id = follows.channel_id AND o.topic_key = follows.topic_key AND o.id < follows.id
        );
        DROP INDEX IF EXISTS follows_channel_topic;
        CREATE UNIQUE INDEX follows_channel_topic_key ON follows(channel_id, topic_key);
        """,
    ),
    (
        13,
        # A catch-up whose pages failed for a reason that may pass (a 503, a timeout) stays owed:
        # ``attempts`` so far, and when a process may take it on again (``retry_at``; 0: now).
        """
        ALTER TABLE feed_catch_ups ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE feed_catch_ups ADD COLUMN retry_at REAL NOT NULL DEFAULT 0;
        """,
    ),
    (
        14,
        # A subscription whose catch-up was given up (``FeedDesk._retry_catch_up``): the scope's
        # own feed listing says so, as only the log did. Gone with the subscription.
        """
        ALTER TABLE feed_scopes ADD COLUMN catch_up_failed INTEGER NOT NULL DEFAULT 0;
        """,
    ),
    (
        15,
        # A failed item's servers a stored article stood for (``state.Stood``, JSON): their records,
        # were they following the feed alone. Items from before: none (told 'duplicate' once more).
        """
        ALTER TABLE feed_items ADD COLUMN stood TEXT;
        """,
    ),
    (
        16,
        # Each subscription's own choices and schedule (``scopes.SQL_SCOPED``): the URL as that
        # scope gave it, its language and interval, and its polls' state as if it followed the
        # feed alone (``schedule.Pace``); ``feeds`` keeps the poll's pace (the operators', else
        # the most eager server's) and the feed's own state. Subscriptions from before take the
        # feed's values (each one's own ask is not known), and its state only where its last
        # poll came after they subscribed (``added_at``; a failing streak is counted whole),
        # its last success only where it did.
        """
        ALTER TABLE feed_scopes ADD COLUMN url TEXT;
        ALTER TABLE feed_scopes ADD COLUMN language TEXT;
        ALTER TABLE feed_scopes ADD COLUMN every_minutes INTEGER;
        ALTER TABLE feed_scopes ADD COLUMN last_polled TEXT;
        ALTER TABLE feed_scopes ADD COLUMN last_success TEXT;
        ALTER TABLE feed_scopes ADD COLUMN last_error TEXT;
        ALTER TABLE feed_scopes ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE feed_scopes ADD COLUMN next_poll REAL NOT NULL DEFAULT 0;
        UPDATE feed_scopes SET (url, language, every_minutes, next_poll) = (
            SELECT f.url, f.language, f.every_minutes, f.next_poll FROM feeds f WHERE f.id = feed_id
        );
        UPDATE feed_scopes SET (last_polled, last_success, last_error, failures) = (
            SELECT f.last_polled, CASE WHEN f.last_success >= feed_scopes.added_at THEN f.last_success END,
                   f.last_error, f.failures
            FROM feeds f WHERE f.id = feed_scopes.feed_id
        )
        WHERE added_at <= (SELECT f.last_polled FROM feeds f WHERE f.id = feed_scopes.feed_id);
        """,
    ),
    (
        17,
        # Follows the bot stopped itself (``drops``: the channel deleted or closed to it, the
        # thread locked, the bot removed from the server), kept a while so /following says why.
        """
        CREATE TABLE dropped_follows (
            id         INTEGER PRIMARY KEY,
            channel_id INTEGER NOT NULL,
            guild_id   INTEGER,
            topic      TEXT NOT NULL,
            topic_key  TEXT,
            reason     TEXT NOT NULL,
            dropped_at REAL NOT NULL
        );
        CREATE INDEX dropped_follows_channel ON dropped_follows(channel_id, dropped_at);
        CREATE INDEX dropped_follows_guild ON dropped_follows(guild_id, dropped_at);
        """,
    ),
    (
        18,
        # The channel a thread's follow is in (``parent_id``; NULL outside a thread, and for
        # follows made before): a deleted channel's follows go with those of its threads, archived
        # ones too, which Discord names in no event (``drops``). Their drops keep it, so the
        # channel's /following lists its threads' too.
        """
        ALTER TABLE follows ADD COLUMN parent_id INTEGER;
        CREATE INDEX follows_parent ON follows(parent_id) WHERE parent_id IS NOT NULL;
        ALTER TABLE dropped_follows ADD COLUMN parent_id INTEGER;
        CREATE INDEX dropped_follows_parent ON dropped_follows(parent_id, dropped_at)
            WHERE parent_id IS NOT NULL;
        """,
    ),
    (
        19,
        # Alerts given up on after their attempts (``undelivered``: Discord refused them, or
        # failed to answer), kept a while so /following shows what its channel did not get.
        """
        CREATE TABLE undelivered_alerts (
            id         INTEGER PRIMARY KEY,
            channel_id INTEGER NOT NULL,
            guild_id   INTEGER,
            parent_id  INTEGER,
            topics     TEXT NOT NULL,
            headline   TEXT NOT NULL,
            articles   INTEGER NOT NULL,
            reason     TEXT NOT NULL,
            dropped_at REAL NOT NULL
        );
        CREATE INDEX undelivered_alerts_channel ON undelivered_alerts(channel_id, dropped_at);
        CREATE INDEX undelivered_alerts_guild ON undelivered_alerts(guild_id, dropped_at);
        CREATE INDEX undelivered_alerts_parent ON undelivered_alerts(parent_id, dropped_at)
            WHERE parent_id IS NOT NULL;
        """,
    ),
    (
        20,
        # What failed a feed's last poll beside its English ``last_error`` (``state.failure_text``:
        # the ``FetchFailure``'s kind and the values its words need, JSON), so a front end says it in
        # its reader's language. NULL for failures from before, and those no fetch error made.
        """
        ALTER TABLE feeds ADD COLUMN last_failure TEXT;
        ALTER TABLE feed_scopes ADD COLUMN last_failure TEXT;
        """,
    ),
)
