"""The repertoire's storage: one SQLite file through sqlite-utils.

:class:`Repertoire` is the one small interface the core talks to; it returns
dataclasses from :mod:`knowledge.models`, never rows. Its statements run on the
portable :class:`~knowledge.storage.Sql` connection, with dialect hooks where
SQLite differs (:class:`~knowledge.postgres.repertoire.PostgresRepertoire`
supplies PostgreSQL's).

Durability: WAL journal with ``synchronous=NORMAL``. A committed transaction
survives a crash or SIGKILL of the process; after a power loss the last few
transactions may be rolled back, but the file is never corrupt.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from knowledge.channels import ChannelBook
from knowledge.directory import Directory
from knowledge.documents import SearchDocuments
from knowledge.entry_listing import ORDER_SQL, EntryListings, filter_sql
from knowledge.migrations import migrate
from knowledge.models import (
    Audience,
    ChannelRef,
    Entry,
    EntryKind,
    Member,
    NewEntry,
    PublicWeb,
    SourceKey,
    from_db_time,
    to_db_time,
)
from knowledge.sqlite.connection import SqliteBacked
from knowledge.storage.listing import EntryFilter, EntryOrder
from knowledge.storage.protocols import Storage
from knowledge.storage.viewer import Viewer
from knowledge.text import normalize_tag, title_from


def entry_columns(tag_list: str) -> str:
    """The columns :func:`row_to_entry` reads; ``tag_list`` aggregates tags (the dialect's way)."""
    return (
        "e.id, e.kind, e.platform, e.workspace, e.channel, e.message_id, e.thread_id, e.title, "
        "e.text, e.author_id, e.created_at, e.updated_at, e.visibility, e.channel_name, "
        "e.permalink, e.accepted, e.knowhow_kind, "
        "coalesce(nullif(m.display_name, ''), nullif(m.handle, ''), m.user_id) AS author_name, "
        f"(SELECT {tag_list} FROM entry_tags t WHERE t.entry_id = e.id) AS tag_list"
    )


def entry_select(tag_list: str) -> str:
    """``SELECT`` of entries with their author and tags, for ``WHERE`` clauses on alias ``e``."""
    return f"SELECT {entry_columns(tag_list)} FROM entries e JOIN members m ON m.id = e.author_id"


#: SQLite's string aggregation of an entry's tags (PostgreSQL says ``string_agg``).
SQLITE_TAG_LIST = "group_concat(tag, ' ')"
_ENTRY_COLUMNS = entry_columns(SQLITE_TAG_LIST)
ENTRY_SELECT = entry_select(SQLITE_TAG_LIST)


#: How long an event id is remembered for de-duplication, and how often old ones go.
EVENT_ID_MEMORY = timedelta(days=7)
PRUNE_EVERY = 1_000


#: How long a write waits for another writer (another process) before "database is locked".
BUSY_TIMEOUT_MS = 5_000

#: SQLite's primary result codes for "another connection holds the lock".
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6


#: PostgreSQL's SQLSTATEs for "another transaction was in the way; run it again":
#: a deadlock between two workers, a serialization failure, a lock not available.
RETRY_SQLSTATES = frozenset({"40P01", "40001", "55P03"})


def is_lock_error(exc: BaseException) -> bool:
    """Whether ``exc`` says another writer was in the way (worth a retry).

    SQLite: another connection holds the write lock. PostgreSQL: two workers'
    transactions deadlocked (the server aborted one) and the like, told by the
    error's SQLSTATE (read off the exception, so no driver is imported here).
    """
    if getattr(exc, "sqlstate", None) in RETRY_SQLSTATES:
        return True
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def open_database(path: str | Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Database:
    """Open (creating if needed) the SQLite file with copbot's pragmas, migrated.

    ``secure_delete`` is on: deleted content is overwritten, not left in free
    space, so a removed message (or a forgotten member) does not linger in the
    file's bytes.
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # One connection, used from one thread at a time (the runtime's worker);
    # check_same_thread is off because that thread is not the one that opened it.
    conn = sqlite3.connect(
        str(path),
        check_same_thread=False,
        isolation_level=None,
        timeout=busy_timeout_ms / 1000,
    )
    db = Database(conn)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    db.execute("PRAGMA secure_delete = ON")
    # 32 MiB of page cache (the default is 2 MiB): the B-tree and FTS pages a busy
    # community touches stay in memory; the search process stays well under 200 MB.
    db.execute("PRAGMA cache_size = -32768")
    migrate(db)
    return db


def row_to_entry(row: sqlite3.Row | tuple[Any, ...]) -> Entry:
    (
        entry_id,
        kind,
        platform,
        workspace,
        channel,
        message_id,
        thread_id,
        title,
        text,
        author_id,
        created_at,
        updated_at,
        visibility,
        channel_name,
        permalink,
        accepted,
        knowhow_kind,
        author_name,
        tag_list,
    ) = tuple(row)[:19]
    return Entry(
        id=entry_id,
        kind=EntryKind(kind),
        source=SourceKey(platform, workspace, channel, message_id),
        title=title,
        text=text,
        author_id=author_id,
        author_name=author_name or "",
        created_at=from_db_time(created_at),
        updated_at=from_db_time(updated_at),
        visibility=visibility,
        channel_name=channel_name,
        thread_id=thread_id,
        permalink=permalink,
        accepted=bool(accepted),
        knowhow_kind=knowhow_kind,
        tags=tuple(sorted(tag_list.split())) if tag_list else (),
    )


def visible_to(entry: Entry, viewer: Audience) -> bool:
    """The visibility rule for one entry in Python (:func:`visibility_clause` is its SQL)."""
    if isinstance(viewer, PublicWeb):
        return (
            entry.visibility == "public"
            and entry.channel_ref in viewer.channels
            and entry.author_id not in viewer.hidden_authors
        )
    return entry.visibility == "public" or entry.channel_ref == viewer


def visibility_clause(viewer: Audience, alias: str = "e") -> tuple[str, list[Any]]:
    """SQL for the visibility rule: public entries, plus those from the viewer's own channel.

    For the public web: public entries of its published channels, by members who
    did not opt out (``alias`` must be an ``entries`` row).
    """
    if isinstance(viewer, PublicWeb):
        return _public_web_clause(viewer, alias)
    if viewer is None:
        return f"{alias}.visibility = 'public'", []
    return (
        f"({alias}.visibility = 'public' OR ({alias}.platform = ? AND {alias}.workspace = ? "
        f"AND {alias}.channel = ?))",
        [viewer.platform, viewer.workspace, viewer.channel],
    )


def _public_web_clause(web: PublicWeb, alias: str) -> tuple[str, list[Any]]:
    if not web.channels:
        return "0", []  # nothing is published until the operator says so
    channels = sorted(web.channels, key=lambda c: (c.platform, c.workspace, c.channel))
    rows = ", ".join("(?, ?, ?)" for _ in channels)
    params: list[Any] = [part for c in channels for part in (c.platform, c.workspace, c.channel)]
    sql = (
        f"({alias}.visibility = 'public' AND ({alias}.platform, {alias}.workspace, "
        f"{alias}.channel) IN (VALUES {rows})"
    )
    if web.hidden_authors:
        sql += f" AND {alias}.author_id NOT IN ({', '.join('?' for _ in web.hidden_authors)})"
        params += sorted(web.hidden_authors)
    return sql + ")", params


class Repertoire(SqliteBacked, Directory, EntryListings):
    """Entries, members, reactions and the search index of one community.

    Its statements are portable SQL run on :attr:`sql`; where the databases
    differ it says so in a dialect hook: :attr:`entry_select` (string
    aggregation), and the search index's hooks (:meth:`reindex`,
    :meth:`reindex_thread_of`, :meth:`deferred_reindex`, :meth:`flush_reindex`,
    :meth:`reindex_linking_channel`, :meth:`drop_search_document`), which the
    SQLite backend implements with its search documents and FTS5 rows.
    """

    #: The entry ``SELECT`` in this dialect (tags aggregated with ``group_concat``).
    entry_select = ENTRY_SELECT

    def __init__(self, db: Database) -> None:
        self.db = db
        #: Opened by :meth:`open_read_only`: caches that would write are skipped.
        self.read_only = False
        #: Channels and their visibility, which every entry said in them follows.
        self.channels = ChannelBook(self.sql)
        #: The search documents (what a search from any channel may match).
        self.documents = SearchDocuments(db)
        self._new_event_ids = 0

    @classmethod
    def open(cls, path: str | Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Repertoire:
        repertoire = cls(open_database(path, busy_timeout_ms=busy_timeout_ms))
        repertoire.documents.upgrade()
        return repertoire

    @classmethod
    def open_read_only(cls, path: str | Path) -> Repertoire:
        """A connection that cannot change the file: the web view's readers.

        An authorizer refuses every write to the database file (rows and
        schema), while the connection's ``temp`` schema stays writable for the
        scratch tables search uses to stem words. The file must exist and be
        migrated already (open it with :meth:`open` first).
        """
        repertoire = cls.open(path)
        repertoire.db.conn.set_authorizer(_reads_only)
        repertoire.read_only = True
        return repertoire

    def close(self) -> None:
        self.db.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of work that writes; nested uses join the outer one (a savepoint).

        The outer one begins ``IMMEDIATE``: it takes the write lock first,
        waiting up to the busy timeout for another writer, instead of reading
        first and failing to upgrade to a write once another process has
        committed (SQLite cannot wait then: "database is locked" at once).
        A rollback also drops what the repertoire remembers of channels.
        """
        conn = self.db.conn
        try:
            if conn.in_transaction:
                with self.db.atomic():
                    yield
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except BaseException:
            self.channels.forget()
            raise

    @contextmanager
    def reading(self) -> Iterator[None]:
        """A consistent read of several statements that takes no write lock."""
        if self.db.conn.in_transaction:
            yield
            return
        with self.db.atomic():
            yield

    # ------------------------------------------------------------------ meta

    def get_meta(self, key: str) -> str | None:
        row = self.sql.one("SELECT value FROM meta WHERE key = ?", [key])
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.sql.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    # ------------------------------------------------------------------ events

    def mark_event_seen(self, platform: str, event_id: str, at: datetime) -> bool:
        """Record a platform event id; ``False`` when it was already seen (a retry).

        Retries and redeliveries come within minutes (Slack retries for about an
        hour at most), so every :data:`PRUNE_EVERY` new ids the ones older than
        :data:`EVENT_ID_MEMORY` are dropped: the table stays small, and a replay
        older than that is still caught by the message key.
        """
        inserted = self.sql.execute(
            "INSERT INTO processed_events (platform, event_id, seen_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [platform, event_id, to_db_time(at)],
        )
        if inserted != 1:
            return False
        self._new_event_ids += 1
        if self._new_event_ids % PRUNE_EVERY == 0:
            self.sql.execute(
                "DELETE FROM processed_events WHERE seen_at < ?",
                [to_db_time(at - EVENT_ID_MEMORY)],
            )
        return True

    # ------------------------------------------------------------------ members and channels

    def upsert_member(
        self,
        platform: str,
        workspace: str,
        user_id: str,
        display_name: str = "",
        handle: str = "",
        at: datetime | None = None,
        *,
        refresh: bool = True,
    ) -> int:
        """The member's id, creating the member or (``refresh``) updating a name that changed."""
        row = self.sql.one(
            "SELECT id, display_name, handle FROM members "
            "WHERE platform = ? AND workspace = ? AND user_id = ?",
            [platform, workspace, user_id],
        )
        if row is not None:
            member_id, old_name, old_handle = row
            changed = (display_name and display_name != old_name) or (
                handle and handle != old_handle
            )
            if refresh and changed:
                self.sql.execute(
                    "UPDATE members SET display_name = ?, handle = ? WHERE id = ?",
                    [display_name or old_name, handle or old_handle, member_id],
                )
            return int(member_id)
        # Another process may add the same member at the same moment: the key decides.
        new_id = self.sql.insert_new(
            "INSERT INTO members (platform, workspace, user_id, handle, display_name, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (platform, workspace, user_id) DO NOTHING",
            [platform, workspace, user_id, handle, display_name, to_db_time(at or _now())],
        )
        if new_id is not None:
            return new_id
        return self.upsert_member(
            platform, workspace, user_id, display_name, handle, at, refresh=refresh
        )

    def get_member(self, member_id: int) -> Member | None:
        row = self.sql.one(
            "SELECT id, platform, workspace, user_id, "
            "coalesce(nullif(display_name, ''), nullif(handle, ''), user_id) "
            "FROM members WHERE id = ?",
            [member_id],
        )
        return Member(*row) if row else None

    def find_members(self, name: str) -> list[Member]:
        """Members whose user id, handle or display name is ``name`` (case-insensitive).

        When nobody matches exactly, members whose display name starts with
        ``name`` as a word ("chen" finds "Chen Wei").
        """
        select = (
            "SELECT id, platform, workspace, user_id, "
            "coalesce(nullif(display_name, ''), nullif(handle, ''), user_id) FROM members "
        )
        rows = self.sql.rows(
            select + "WHERE lower(user_id) = lower(?) OR lower(handle) = lower(?) "
            "OR lower(display_name) = lower(?)",
            [name, name, name],
        )
        if not rows and name.strip():
            rows = self.sql.rows(select + "WHERE lower(display_name) LIKE lower(?)", [f"{name} %"])
        return [Member(*r) for r in rows]

    def upsert_channel(
        self,
        platform: str,
        workspace: str,
        channel: str,
        name: str,
        visibility: str,
        *,
        at: datetime | None = None,
        authoritative: bool = True,
    ) -> bool:
        """Record what an event says of a channel (:meth:`ChannelBook.claim`'s rule).

        When the channel's visibility changes, its entries follow in the same
        statement (triggers), and so do the search documents that borrow an
        answer from it. ``True`` when the visibility changed.
        """
        ref = ChannelRef(platform, workspace, channel)
        changed = self.channels.claim(ref, name, visibility, at=at, authoritative=authoritative)
        if changed:
            self.reindex_linking_channel(ref)
        return changed

    def set_capture_stopped(self, ref: ChannelRef, stopped: bool) -> None:
        self.channels.set_capture_stopped(ref, stopped)

    def capture_stopped(self, ref: ChannelRef) -> bool:
        return self.channels.capture_stopped(ref)

    # ------------------------------------------------------------------ entries

    def save_entry(self, new: NewEntry) -> tuple[int, bool]:
        """Create the entry, or refresh it when its source key exists: ``(id, created)``.

        Idempotent on (platform, workspace, channel, message id, kind): retries,
        replays and re-imports never make a second entry.
        """
        src = new.source
        existing = self._entry_id_for(new)
        if existing is not None:
            self._refresh_entry(existing, new)
            return existing, False
        # Its channel has a row (unknown means private: the entry's own visibility
        # is the best claim there is); the entry then takes the channel's visibility.
        self.channels.ensure(
            ChannelRef(src.platform, src.workspace, src.channel), new.channel_name, new.visibility
        )
        now = to_db_time(new.created_at)
        # ON CONFLICT: another process capturing the same message (a retry sent
        # elsewhere, a second import, a catch-up racing live capture) may insert
        # it first; the unique key decides, and the loser refreshes that entry.
        entry_id = self.sql.insert_new(
            "INSERT INTO entries (kind, platform, workspace, channel, message_id, thread_id, "
            "title, "
            "text, author_id, saved_by_id, created_at, updated_at, visibility, channel_name, "
            "permalink, knowhow_kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, workspace, channel, message_id, kind) DO NOTHING",
            [
                new.kind.value,
                src.platform,
                src.workspace,
                src.channel,
                src.message_id,
                new.thread_id,
                new.title,
                new.text,
                new.author_id,
                new.saved_by_id,
                now,
                now,
                new.visibility,
                new.channel_name,
                new.permalink,
                new.knowhow_kind,
            ],
        )
        if entry_id is None:
            existing = self._entry_id_for(new)
            if existing is None:  # pragma: no cover - inserted, then deleted meanwhile
                raise LookupError(f"the entry of message {src.message_id} vanished while saved")
            self._refresh_entry(existing, new)
            return existing, False
        self._add_tags(entry_id, new.tags)
        self.reindex_thread_of(entry_id)
        return entry_id, True

    def _entry_id_for(self, new: NewEntry) -> int | None:
        src = new.source
        row = self.sql.one(
            "SELECT id FROM entries WHERE platform = ? AND workspace = ? AND channel = ? "
            "AND message_id = ? AND kind = ?",
            [src.platform, src.workspace, src.channel, src.message_id, new.kind.value],
        )
        return int(row[0]) if row is not None else None

    def _refresh_entry(self, entry_id: int, new: NewEntry) -> None:
        """A message seen again: its text and what was given on purpose are refreshed."""
        self.sql.execute(
            "UPDATE entries SET text = ?, title = CASE WHEN ? != '' THEN ? ELSE title END, "
            "permalink = CASE WHEN ? != '' THEN ? ELSE permalink END, "
            "knowhow_kind = CASE WHEN ? != '' THEN ? ELSE knowhow_kind END WHERE id = ?",
            [
                new.text,
                new.title,
                new.title,
                new.permalink,
                new.permalink,
                new.knowhow_kind,
                new.knowhow_kind,
                entry_id,
            ],
        )
        if new.tags:
            self._add_tags(entry_id, new.tags)
        self.reindex_thread_of(entry_id)

    def _add_tags(self, entry_id: int, tags: Iterable[str]) -> None:
        for tag in tags:
            tag = normalize_tag(tag)
            if tag:
                self.sql.execute(
                    "INSERT INTO entry_tags (entry_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    [entry_id, tag],
                )

    def set_tags(self, entry_id: int, tags: Iterable[str]) -> None:
        """Replace an entry's tags (curation)."""
        self.sql.execute("DELETE FROM entry_tags WHERE entry_id = ?", [entry_id])
        self._add_tags(entry_id, tags)
        self.reindex_thread_of(entry_id)

    def get_entry(self, entry_id: int) -> Entry | None:
        row = self.sql.one(f"{self.entry_select} WHERE e.id = ?", [entry_id])
        return row_to_entry(row) if row else None

    def entries_for_message(self, src: SourceKey) -> list[Entry]:
        """Every entry made from one chat message (a question may also be saved as know-how)."""
        rows = self.sql.rows(
            f"{self.entry_select} WHERE e.platform = ? AND e.workspace = ? AND e.channel = ? "
            "AND e.message_id = ? ORDER BY e.id",
            [src.platform, src.workspace, src.channel, src.message_id],
        )
        return [row_to_entry(r) for r in rows]

    def update_text(self, src: SourceKey, text: str, title: str, at: datetime) -> list[Entry]:
        """An edit in chat: every entry from that message takes the new text."""
        entries = self.entries_for_message(src)
        for entry in entries:
            # A title made from the old text follows the new text; one given on purpose
            # (a forum post's name, a know-how title) stays.
            derived = not entry.title or entry.title == title_from(entry.text)
            new_title = title if derived else entry.title
            self.sql.execute(
                "UPDATE entries SET text = ?, title = ?, updated_at = ? WHERE id = ?",
                [text, new_title, to_db_time(at), entry.id],
            )
            self.reindex_thread_of(entry.id)
        return entries

    def set_title(self, entry_id: int, title: str) -> None:
        """Give an entry a title on purpose (a forum post renamed); later edits keep it."""
        self.sql.execute("UPDATE entries SET title = ? WHERE id = ?", [title, entry_id])
        self.reindex_thread_of(entry_id)

    def delete_message(self, src: SourceKey) -> list[Entry]:
        """A delete in chat: its entries, their index rows, embeddings, edits and reactions go.

        The documents that held its text go too: its question's, and those of
        questions that borrowed it through a "solved it" link.
        """
        entries = self.entries_for_message(src)
        borrowers: set[int] = set()
        for entry in entries:
            borrowers |= self._questions_linking(entry)
            self.drop_search_document(entry.id)
            self.sql.execute("DELETE FROM entry_tags WHERE entry_id = ?", [entry.id])
            self.sql.execute("DELETE FROM entry_embeddings WHERE entry_id = ?", [entry.id])
            self.sql.execute("DELETE FROM entries WHERE id = ?", [entry.id])
            if entry.kind == EntryKind.ANSWER:
                root = self.thread_root(entry)
                if root is not None:
                    self.reindex(root.id)
        for question_id in sorted(borrowers):
            self.reindex_thread_of(question_id)
        for table in ("reactions", "message_edits"):  # no trace of the text or its reactions
            self.sql.execute(
                f"DELETE FROM {table} WHERE platform = ? AND workspace = ? AND channel = ? "
                "AND message_id = ?",
                [src.platform, src.workspace, src.channel, src.message_id],
            )
        return entries

    def _questions_linking(self, entry: Entry) -> set[int]:
        """Questions whose document borrows this entry's text through a "solved it" link."""
        targets = [entry.id]
        if entry.kind == EntryKind.ANSWER:
            root = self.thread_root(entry)
            if root is not None:
                targets.append(root.id)
        marks = ", ".join("?" for _ in targets)
        rows = self.sql.rows(
            f"SELECT question_id FROM similar_links WHERE entry_id IN ({marks})", targets
        )
        return {int(r[0]) for r in rows} - {entry.id}

    def relink_message(self, entry_id: int, message_id: str, permalink: str = "") -> None:
        """Point an entry at the chat message that now carries it (``/cop ask`` posts)."""
        self.sql.execute(
            "UPDATE entries SET message_id = ?, "
            "permalink = CASE WHEN ? != '' THEN ? ELSE permalink END WHERE id = ?",
            [message_id, permalink, permalink, entry_id],
        )
        self.reindex_thread_of(entry_id)

    def thread_root(self, entry: Entry) -> Entry | None:
        """The question (or know-how) whose thread this answer is in."""
        if entry.thread_id is None:
            return None
        row = self.sql.one(
            f"{self.entry_select} WHERE e.platform = ? AND e.workspace = ? AND e.channel = ? "
            "AND e.message_id = ? AND e.kind IN ('question', 'knowhow') ORDER BY e.kind DESC",
            [entry.source.platform, entry.source.workspace, entry.source.channel, entry.thread_id],
        )
        return row_to_entry(row) if row else None

    def question_for_thread(self, ref: ChannelRef, thread_id: str) -> Entry | None:
        row = self.sql.one(
            f"{self.entry_select} WHERE e.platform = ? AND e.workspace = ? AND e.channel = ? "
            "AND e.message_id = ? AND e.kind = 'question'",
            [ref.platform, ref.workspace, ref.channel, thread_id],
        )
        return row_to_entry(row) if row else None

    def answers_for(self, question: Entry) -> list[Entry]:
        """Every answer in the question's thread: accepted first, then oldest first.

        Unfiltered: for the capture rules (acceptance, deletes). Anything shown
        or indexed goes through :meth:`visible_answers`.
        """
        rows = self.sql.rows(
            f"{self.entry_select} WHERE e.platform = ? AND e.workspace = ? AND e.channel = ? "
            "AND e.thread_id = ? AND e.kind = 'answer' ORDER BY e.accepted DESC, e.created_at",
            [
                question.source.platform,
                question.source.workspace,
                question.source.channel,
                question.source.message_id,
            ],
        )
        return [row_to_entry(r) for r in rows]

    def visible_answers(
        self, question: Entry, viewer: Audience, *, borrowed: bool = True
    ) -> list[Entry]:
        """The answers ``viewer`` may see, each by its own visibility: the one place for it.

        The thread's answers (accepted first), or else (``borrowed``) the answer
        a "solved it" link lends the question. Whatever shows a question with
        its answers (search, similar, share, digests, export, profiles) reads
        them here.
        """
        answers = [a for a in self.answers_for(question) if visible_to(a, viewer)]
        if answers or not borrowed or question.kind != EntryKind.QUESTION:
            return answers
        return [a for a in self.linked_answers(question.id) if visible_to(a, viewer)]

    def set_accepted(self, entry_id: int, accepted: bool) -> bool:
        """Mark or unmark an answer as accepted; ``True`` when that changed anything."""
        changed = self.sql.execute(
            "UPDATE entries SET accepted = ? WHERE id = ? AND kind = 'answer' AND accepted != ?",
            [accepted, entry_id, accepted],
        )
        if changed:
            self.reindex_thread_of(entry_id)
        return bool(changed)

    # ------------------------------------------------------------------ reactions

    def set_reaction(
        self, src: SourceKey, user_id: str, emoji: str, added: bool, at: datetime
    ) -> None:
        """Keep a reaction by message key, last writer (by event time) wins.

        A reaction that comes before its message still counts; an add and a
        remove that arrive swapped end as the later one says (at equal times
        the removal wins, as it would have come second); a reaction on a
        deleted message is dropped.
        """
        if self.is_tombstoned(src):
            return
        self.sql.execute(
            "INSERT INTO reactions (platform, workspace, channel, message_id, user_id, emoji, "
            "created_at, present) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, workspace, channel, message_id, user_id, emoji) DO UPDATE "
            "SET present = excluded.present, created_at = excluded.created_at "
            "WHERE excluded.created_at > reactions.created_at "
            "OR (excluded.created_at = reactions.created_at AND excluded.present = FALSE)",
            [
                src.platform,
                src.workspace,
                src.channel,
                src.message_id,
                user_id,
                emoji,
                to_db_time(at),
                added,
            ],
        )

    # ------------------------------------------------------------------ event order

    def add_tombstone(self, src: SourceKey, at: datetime) -> None:
        """Remember a deleted message so a late create or reaction cannot revive it."""
        self.sql.execute(
            "INSERT INTO message_tombstones (platform, workspace, channel, message_id, "
            "deleted_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [src.platform, src.workspace, src.channel, src.message_id, to_db_time(at)],
        )

    def is_tombstoned(self, src: SourceKey) -> bool:
        return (
            self.sql.one(
                "SELECT 1 FROM message_tombstones WHERE platform = ? AND workspace = ? "
                "AND channel = ? AND message_id = ?",
                [src.platform, src.workspace, src.channel, src.message_id],
            )
            is not None
        )

    def record_edit(self, src: SourceKey, text: str, at: datetime, author: str = "") -> bool:
        """Keep the newest edit of a message; ``False`` when a newer one is already known.

        ``author`` (the editor's platform user id) lets forgetting a member find it.
        """
        changed = self.sql.execute(
            "INSERT INTO message_edits (platform, workspace, channel, message_id, text, "
            "edited_at, author) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, workspace, channel, message_id) DO UPDATE "
            "SET text = excluded.text, edited_at = excluded.edited_at, "
            "author = CASE WHEN excluded.author != '' THEN excluded.author "
            "ELSE message_edits.author END "
            "WHERE excluded.edited_at >= message_edits.edited_at",
            [
                src.platform,
                src.workspace,
                src.channel,
                src.message_id,
                text,
                to_db_time(at),
                author,
            ],
        )
        return changed == 1

    def latest_edit(self, src: SourceKey) -> tuple[str, datetime] | None:
        row = self.sql.one(
            "SELECT text, edited_at FROM message_edits WHERE platform = ? AND workspace = ? "
            "AND channel = ? AND message_id = ?",
            [src.platform, src.workspace, src.channel, src.message_id],
        )
        return (str(row[0]), from_db_time(row[1])) if row else None

    def advance_read_mark(self, src: SourceKey, at: datetime) -> None:
        """Note that the channel was read up to this message (never moves backwards)."""
        self.sql.execute(
            "INSERT INTO read_marks (platform, workspace, channel, last_message_at, "
            "last_message_id) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, workspace, channel) DO UPDATE SET "
            "last_message_at = excluded.last_message_at, "
            "last_message_id = excluded.last_message_id "
            "WHERE excluded.last_message_at > read_marks.last_message_at",
            [src.platform, src.workspace, src.channel, to_db_time(at), src.message_id],
        )

    def read_marks(self, platform: str) -> dict[ChannelRef, tuple[datetime, str]]:
        """Per channel of ``platform``: the newest message seen, to catch up from on restart."""
        rows = self.sql.rows(
            "SELECT workspace, channel, last_message_at, last_message_id FROM read_marks "
            "WHERE platform = ?",
            [platform],
        )
        return {
            ChannelRef(platform, str(ws), str(ch)): (from_db_time(at), str(mid))
            for ws, ch, at, mid in rows
        }

    def reactors(self, src: SourceKey, emoji: str) -> set[str]:
        rows = self.sql.rows(
            "SELECT user_id FROM reactions WHERE platform = ? AND workspace = ? AND channel = ? "
            "AND message_id = ? AND emoji = ? AND present = TRUE",
            [src.platform, src.workspace, src.channel, src.message_id, emoji],
        )
        return {str(r[0]) for r in rows}

    # ------------------------------------------------------------------ search index

    # The search index's hooks: SQLite's search documents and FTS5 rows.

    def reindex_linking_channel(self, ref: ChannelRef) -> None:
        """Rebuild the documents that borrow an answer from ``ref`` (its visibility changed)."""
        self.documents.reindex_linking_channel(ref)

    def drop_search_document(self, entry_id: int) -> None:
        """Take a deleted entry out of the full-text index."""
        self.sql.execute("DELETE FROM search_fts WHERE rowid = ?", [entry_id])

    def reindex_thread_of(self, entry_id: int) -> None:
        """Refresh the search document of the entry or of the question it answers."""
        self.documents.reindex_thread_of(entry_id)

    def reindex(self, entry_id: int) -> None:
        """Rebuild one search document (:meth:`SearchDocuments.reindex`)."""
        self.documents.reindex(entry_id)

    @contextmanager
    def deferred_reindex(self) -> Iterator[None]:
        """Bulk mode (:meth:`SearchDocuments.deferring`): documents rebuilt once per flush."""
        with self.documents.deferring():
            yield

    def flush_reindex(self) -> int:
        """Rebuild the search documents bulk mode noted, each once; how many."""
        return self.documents.flush()

    def linked_answers(self, question_id: int) -> list[Entry]:
        """The answer (or know-how) of the entry a member said solved this question."""
        row = self.sql.one(
            "SELECT entry_id FROM similar_links WHERE question_id = ?", [question_id]
        )
        target = self.get_entry(int(row[0])) if row else None
        if target is None or target.id == question_id:
            return []
        if target.kind == EntryKind.QUESTION:
            return self.answers_for(target)[:1]
        return [target]

    # ------------------------------------------------------------------ listings

    def entries(
        self,
        viewer: Viewer,
        wanted: EntryFilter | None = None,
        *,
        order: EntryOrder = "newest",
        limit: int = 100,
        offset: int = 0,
    ) -> list[Entry]:
        """The entries ``viewer`` may see that meet ``wanted``: the one generic listing."""
        conditions, params = self._listing(viewer, wanted)
        rows = self.sql.rows(
            f"{self.entry_select} WHERE {' AND '.join(conditions)} ORDER BY {ORDER_SQL[order]} "
            "LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [row_to_entry(r) for r in rows]

    def count_entries(self, viewer: Viewer, wanted: EntryFilter | None = None) -> int:
        """How many entries ``viewer`` may see meet ``wanted``."""
        conditions, params = self._listing(viewer, wanted)
        row = self.sql.one(
            f"SELECT count(*) FROM entries e WHERE {' AND '.join(conditions)}", params
        )
        return int(row[0]) if row else 0

    @staticmethod
    def _listing(viewer: Viewer, wanted: EntryFilter | None) -> tuple[list[str], list[Any]]:
        conditions, params = filter_sql(wanted or EntryFilter())
        if not viewer.includes_private:
            visible, visible_params = visibility_clause(viewer.channel)
            conditions, params = [visible, *conditions], [*visible_params, *params]
        return conditions or ["1 = 1"], params


_SCHEMA_CHANGES = frozenset(
    {
        sqlite3.SQLITE_CREATE_TABLE,
        sqlite3.SQLITE_CREATE_INDEX,
        sqlite3.SQLITE_CREATE_TRIGGER,
        sqlite3.SQLITE_CREATE_VIEW,
        sqlite3.SQLITE_CREATE_VTABLE,
        sqlite3.SQLITE_ALTER_TABLE,
        sqlite3.SQLITE_DROP_TABLE,
        sqlite3.SQLITE_DROP_INDEX,
        sqlite3.SQLITE_DROP_TRIGGER,
        sqlite3.SQLITE_DROP_VIEW,
        sqlite3.SQLITE_DROP_VTABLE,
    }
)
_ROW_CHANGES = frozenset({sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE})


def _reads_only(
    action: int, arg1: str | None, _arg2: str | None, database: str | None, _trigger: str | None
) -> int:
    """SQLite authorizer: no change to the ``main`` database, anything in ``temp``.

    (SQLite itself touches ``sqlite_master`` while declaring a virtual table
    in ``temp``; no schema change reaches ``main``, so that one is let through.)
    """
    if database == "main" and (
        action in _SCHEMA_CHANGES or (action in _ROW_CHANGES and arg1 != "sqlite_master")
    ):
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _now() -> datetime:
    return datetime.now(UTC)


def _conforms(repertoire: Repertoire) -> Storage:
    """mypy checks here that the SQLite repertoire is the whole storage interface."""
    return repertoire
