"""Tables for similar-question suggestions, their feedback, and "solved it" links.

Its own sqlite-utils ``Migrations`` set (appended to
:data:`knowledge.sqlite.migrations.MIGRATION_SETS`), so it never fights another
feature's steps. No foreign keys to ``entries``: deleting a message in chat
must never be blocked by a suggestion that mentioned it; readers skip ids
that are gone.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

__all__ = ["migrations"]

migrations = Migrations("copbot-similar")


@migrations()
def m001_similar(db: Database) -> None:
    # The index's vocabulary: one row per term with the number of documents
    # that hold it (idf for picking a question's informative terms).
    db.execute("CREATE VIRTUAL TABLE search_vocab USING fts5vocab(search_fts, 'row')")
    db.execute(
        """
        CREATE TABLE similar_suggestions (
            id INTEGER PRIMARY KEY,
            question_id INTEGER NOT NULL,
            platform TEXT NOT NULL,
            workspace TEXT NOT NULL,
            channel TEXT NOT NULL,
            thread_id TEXT NOT NULL,
            message_id TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX similar_suggestions_question ON similar_suggestions (question_id)")
    db.execute(
        "CREATE INDEX similar_suggestions_message "
        "ON similar_suggestions (platform, workspace, channel, message_id)"
    )
    db.execute(
        """
        CREATE TABLE similar_items (
            suggestion_id INTEGER NOT NULL,
            rank INTEGER NOT NULL,
            entry_id INTEGER NOT NULL,
            confidence REAL NOT NULL,
            PRIMARY KEY (suggestion_id, rank)
        )
        """
    )
    # One verdict per member, question and suggested entry: "solved_it" or "not_related".
    db.execute(
        """
        CREATE TABLE similar_feedback (
            question_id INTEGER NOT NULL,
            entry_id INTEGER NOT NULL,
            user_id TEXT NOT NULL,
            verdict TEXT NOT NULL CHECK (verdict IN ('solved_it', 'not_related')),
            created_at TEXT NOT NULL,
            PRIMARY KEY (question_id, entry_id, user_id)
        )
        """
    )
    # A question a member said was solved by an older entry: it counts as
    # answered, and that entry's answer joins its search document.
    db.execute(
        """
        CREATE TABLE similar_links (
            question_id INTEGER PRIMARY KEY,
            entry_id INTEGER NOT NULL,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX similar_links_entry ON similar_links (entry_id)")


@migrations()
def m002_embeddings(db: Database) -> None:
    # The optional semantic stage (knowledge/semantic.py): one vector per entry
    # and model, float32, L2-normalised; updated_at is the entry's when embedded.
    db.execute(
        """
        CREATE TABLE entry_embeddings (
            entry_id INTEGER NOT NULL,
            model TEXT NOT NULL,
            dim INTEGER NOT NULL,
            vector BLOB NOT NULL,
            updated_at TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (entry_id, model)
        )
        """
    )


@migrations()
def m003_document_frequencies(db: Database) -> None:
    # Document frequencies of terms, as counted by fts5vocab when the index
    # held n_docs documents (knowledge/similar.py: document_frequencies).
    db.execute(
        "CREATE TABLE similar_df (term TEXT PRIMARY KEY, doc INTEGER NOT NULL, "
        "n_docs INTEGER NOT NULL) WITHOUT ROWID"
    )


@migrations()
def m004_channel_resets(db: Database) -> None:
    # When a channel's suggestion threshold was last reset (/cop suggestions reset):
    # only feedback given after it moves the channel's threshold.
    db.execute(
        "CREATE TABLE similar_channel_resets (platform TEXT NOT NULL, workspace TEXT NOT NULL, "
        "channel TEXT NOT NULL, reset_at TEXT NOT NULL, "
        "PRIMARY KEY (platform, workspace, channel)) WITHOUT ROWID"
    )


@migrations()
def m005_embeddings_go_with_their_entry(db: Database) -> None:
    # An entry's vectors go when it is deleted (or forgotten), and when its text is
    # edited (the vector would say the old text): in the schema, so that no path
    # can leave one behind. IF NOT EXISTS: the semantic stage used to create
    # these two when it first wrote a vector.
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS entry_embeddings_deleted AFTER DELETE ON entries "
        "BEGIN DELETE FROM entry_embeddings WHERE entry_id = old.id; END"
    )
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS entry_embeddings_edited AFTER UPDATE OF title, text "
        "ON entries WHEN old.title IS NOT new.title OR old.text IS NOT new.text "
        "BEGIN DELETE FROM entry_embeddings WHERE entry_id = old.id; END"
    )
