"""Schema of the repertoire, created and migrated at start-up.

Each feature that needs tables registers its own steps on a sqlite-utils
``Migrations`` set (one set per concern keeps branches from fighting over one
list); :func:`migrate` applies every set in order. Steps are never edited once
released: add a new one.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from knowledge.sqlite import schema_privacy, schema_similar
from knowledge.sqlite.schema_digest import migrations as digest_migrations
from knowledge.sqlite.schema_practice import practice
from knowledge.sqlite.schema_web import migrations as web_migrations

__all__ = ["FTS_TOKENIZER", "MIGRATION_SETS", "core", "migrate"]

core = Migrations("copbot-core")

#: The FTS5 tokenizer: Porter stemming over unicode61 with accents folded, so
#: "caching" finds "cached" and "cafe" finds "café".
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"


@core()
def m001_initial(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE members (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            workspace TEXT NOT NULL,
            user_id TEXT NOT NULL,
            handle TEXT NOT NULL DEFAULT '',
            display_name TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            UNIQUE (platform, workspace, user_id)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE channels (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            workspace TEXT NOT NULL,
            channel TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            visibility TEXT NOT NULL,
            capture_stopped INTEGER NOT NULL DEFAULT 0,
            UNIQUE (platform, workspace, channel)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE entries (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('question', 'answer', 'knowhow')),
            platform TEXT NOT NULL,
            workspace TEXT NOT NULL,
            channel TEXT NOT NULL,
            message_id TEXT NOT NULL,
            thread_id TEXT,
            title TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            author_id INTEGER NOT NULL REFERENCES members(id),
            saved_by_id INTEGER REFERENCES members(id),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private', 'dm')),
            channel_name TEXT NOT NULL DEFAULT '',
            permalink TEXT NOT NULL DEFAULT '',
            accepted INTEGER NOT NULL DEFAULT 0,
            knowhow_kind TEXT NOT NULL DEFAULT '',
            answer_count INTEGER NOT NULL DEFAULT 0,
            has_accepted INTEGER NOT NULL DEFAULT 0,
            UNIQUE (platform, workspace, channel, message_id, kind)
        )
        """
    )
    db.execute("CREATE INDEX entries_thread ON entries (platform, workspace, channel, thread_id)")
    db.execute("CREATE INDEX entries_author ON entries (author_id)")
    db.execute("CREATE INDEX entries_created ON entries (created_at)")
    db.execute(
        """
        CREATE TABLE entry_tags (
            entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
            tag TEXT NOT NULL,
            PRIMARY KEY (entry_id, tag)
        )
        """
    )
    db.execute("CREATE INDEX entry_tags_tag ON entry_tags (tag)")
    db.execute(
        """
        CREATE TABLE reactions (
            platform TEXT NOT NULL,
            workspace TEXT NOT NULL,
            channel TEXT NOT NULL,
            message_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            emoji TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (platform, workspace, channel, message_id, user_id, emoji)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE processed_events (
            platform TEXT NOT NULL,
            event_id TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            PRIMARY KEY (platform, event_id)
        )
        """
    )
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    # One search document per question or know-how entry (rowid = entries.id):
    # its own text, its answers' text and its tags, weighted apart by bm25.
    db.execute(
        f"""
        CREATE VIRTUAL TABLE search_fts USING fts5(
            title, body, answers, tags,
            tokenize = '{FTS_TOKENIZER}'
        )
        """
    )


@core()
def m002_event_order(db: Database) -> None:
    """Let events arrive in any order and still end in the same state.

    Reactions become last-writer-wins by event time (``present`` flips instead
    of the row being deleted); deleted messages leave a tombstone so a late
    create or reaction cannot bring them back; the newest edit of a message is
    kept so a create that arrives after its edit still ends with the new text.
    """
    db.execute("ALTER TABLE reactions ADD COLUMN present INTEGER NOT NULL DEFAULT 1")
    db.execute(
        """
        CREATE TABLE message_tombstones (
            platform TEXT NOT NULL,
            workspace TEXT NOT NULL,
            channel TEXT NOT NULL,
            message_id TEXT NOT NULL,
            deleted_at TEXT NOT NULL,
            PRIMARY KEY (platform, workspace, channel, message_id)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE message_edits (
            platform TEXT NOT NULL,
            workspace TEXT NOT NULL,
            channel TEXT NOT NULL,
            message_id TEXT NOT NULL,
            text TEXT NOT NULL,
            edited_at TEXT NOT NULL,
            PRIMARY KEY (platform, workspace, channel, message_id)
        )
        """
    )


@core()
def m003_read_marks(db: Database) -> None:
    """How far copbot has read each channel, so a restart can catch up on what it missed."""
    db.execute(
        """
        CREATE TABLE read_marks (
            platform TEXT NOT NULL,
            workspace TEXT NOT NULL,
            channel TEXT NOT NULL,
            last_message_at TEXT NOT NULL,
            last_message_id TEXT NOT NULL,
            PRIMARY KEY (platform, workspace, channel)
        )
        """
    )


#: Every migration set, in the order they apply. Features append theirs.
MIGRATION_SETS: list[Migrations] = [core]
MIGRATION_SETS.append(digest_migrations)  # digest and follow-up logs
MIGRATION_SETS.append(practice)  # kinds' expiry, curation, thanks, identity links
MIGRATION_SETS.append(schema_similar.migrations)  # similar questions
MIGRATION_SETS.append(schema_privacy.migrations)  # visibility follows the channel; forget
MIGRATION_SETS.append(web_migrations)  # the public web view: opt-outs, entries by channel and date


def migrate(db: Database) -> None:
    """Bring ``db`` to the newest schema; safe to call at every start."""
    for migrations in MIGRATION_SETS:
        migrations.apply(db)
