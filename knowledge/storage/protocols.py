"""The storage interface, split by concern: what the core may ask of a repertoire.

Every backend implements all of it (:class:`Storage`); ``mypy`` checks the
SQLite and the PostgreSQL repertoire against it. Methods return dataclasses from
:mod:`knowledge.models`, never rows, and take no SQL.

Reads that list member content take a :class:`~knowledge.storage.viewer.Viewer`.
Reads by id or by chat message (``get_entry``, ``answers_for``, ...) serve the
write path (capture must find the question an edit touches, wherever it is);
what they return is shown only after the caller checks :meth:`Viewer.sees`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from knowledge.models import (
    Audience,
    ChannelRef,
    DigestRun,
    Entry,
    KnownChannel,
    Member,
    NewEntry,
    SourceKey,
)
from knowledge.query import ParsedQuery
from knowledge.storage.listing import EntryFilter, EntryOrder
from knowledge.storage.matches import ScoredEntry, SimilarLookup
from knowledge.storage.roles import RoleLock
from knowledge.storage.viewer import Viewer

__all__ = [
    "ChannelStore",
    "DigestLogStore",
    "EntryListing",
    "EntryStore",
    "EventOrder",
    "MemberStore",
    "SearchIndex",
    "Storage",
    "TextSearch",
    "Transactions",
]


class Transactions(Protocol):
    """One transaction per event, on the one database thread."""

    def transaction(self) -> AbstractContextManager[None]:
        """An atomic unit of work; nested uses join the outer one."""
        ...

    def group(self) -> AbstractContextManager[None]:
        """One transaction for a group of events, each joining it as a nested unit.

        A nested unit that fails fails the group: it is rolled back whole and
        :class:`~knowledge.storage.errors.GroupFailed` (or the unit's own error)
        raised, for its events to be applied again one by one. A backend whose
        savepoints are cheap may keep them instead and let the others commit.
        """
        ...

    def reading(self) -> AbstractContextManager[None]:
        """A consistent read of several statements that takes no write lock."""
        ...

    def bulk_load(
        self, *, durable: bool = True, lock_wait_ms: int | None = None
    ) -> AbstractContextManager[None]:
        """Tune the backend for a big import while the block runs (settings come back after)."""
        ...

    def take_bulk_turn(self) -> None:
        """Inside a bulk transaction: wait until no other process's bulk transaction runs.

        Two imports of one export at once, each batch writing the same keys and
        counters, would deadlock over and over; taking turns batch by batch, the
        second finds the first's rows and adds nothing twice.
        """
        ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def close(self) -> None: ...


class EntryStore(Protocol):
    """Entries and threads: capture's writes, and the reads the write path needs."""

    def save_entry(self, new: NewEntry) -> tuple[int, bool]:
        """Create, or refresh by source key: ``(id, created)``; replays never make two."""
        ...

    def get_entry(self, entry_id: int) -> Entry | None: ...

    def entries_for_message(self, src: SourceKey) -> list[Entry]: ...

    def update_text(self, src: SourceKey, text: str, title: str, at: datetime) -> list[Entry]: ...

    def set_title(self, entry_id: int, title: str) -> None: ...

    def set_tags(self, entry_id: int, tags: Iterable[str]) -> None: ...

    def delete_message(self, src: SourceKey) -> list[Entry]:
        """A delete in chat: its entries, their search documents and reactions go."""
        ...

    def relink_message(self, entry_id: int, message_id: str, permalink: str = "") -> None: ...

    def set_accepted(self, entry_id: int, accepted: bool) -> bool: ...

    def thread_root(self, entry: Entry) -> Entry | None: ...

    def question_for_thread(self, ref: ChannelRef, thread_id: str) -> Entry | None: ...

    def answers_for(self, question: Entry) -> list[Entry]: ...

    def visible_answers(
        self, question: Entry, viewer: Audience, *, borrowed: bool = True
    ) -> list[Entry]:
        """The answers ``viewer`` may see, each by its own visibility."""
        ...

    def linked_answers(self, question_id: int) -> list[Entry]: ...


class EntryListing(Protocol):
    """Listings of entries, each for a viewer (the visibility rule applied inside)."""

    def entries(
        self,
        viewer: Viewer,
        wanted: EntryFilter | None = None,
        *,
        order: EntryOrder = "newest",
        limit: int = 100,
        offset: int = 0,
    ) -> list[Entry]: ...

    def count_entries(self, viewer: Viewer, wanted: EntryFilter | None = None) -> int: ...

    def entry_for(self, viewer: Viewer, entry_id: int) -> Entry | None:
        """One entry by id, if ``viewer`` may see it (the same ``None`` when it is missing)."""
        ...

    def open_questions(
        self, viewer: Viewer, channel: ChannelRef, since: datetime, limit: int = 100
    ) -> list[Entry]: ...

    def questions_asked(
        self, viewer: Viewer, channel: ChannelRef, since: datetime, limit: int = 100
    ) -> list[Entry]: ...

    def due_follow_ups(
        self,
        platform: str,
        *,
        workspace: str | None = None,
        channel_id: str | None = None,
        channel_name: str | None = None,
        asked_from: datetime,
        asked_until: datetime,
        limit: int = 100,
    ) -> list[Entry]: ...

    def latest_answer_in_thread(
        self, viewer: Viewer, channel: ChannelRef, thread_id: str, authors: tuple[int, ...]
    ) -> Entry | None: ...


class MemberStore(Protocol):
    """Members (one per platform identity; linked identities are the identity module's)."""

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
    ) -> int: ...

    def get_member(self, member_id: int) -> Member | None: ...

    def find_members(self, name: str) -> list[Member]: ...

    def members_with_user_id(self, platform: str, user_id: str) -> list[Member]: ...

    def all_members(self) -> list[Member]: ...


class ChannelStore(Protocol):
    """Channels: their name and visibility now, and whether capture is stopped there."""

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
        """Record what an event says of a channel; ``True`` when its visibility changed.

        The channel's entries (and the search documents that borrow from them)
        follow a change of visibility at once.
        """
        ...

    def set_capture_stopped(self, ref: ChannelRef, stopped: bool) -> None: ...

    def capture_stopped(self, ref: ChannelRef) -> bool: ...

    def find_channel(
        self,
        platform: str,
        *,
        channel_id: str | None = None,
        name: str | None = None,
        workspace: str = "",
    ) -> KnownChannel | None: ...


class EventOrder(Protocol):
    """Events that come twice, late or out of order, and where each channel was read up to."""

    def mark_event_seen(self, platform: str, event_id: str, at: datetime) -> bool:
        """``False`` when the event id was already seen (a retry)."""
        ...

    def set_reaction(
        self, src: SourceKey, user_id: str, emoji: str, added: bool, at: datetime
    ) -> None: ...

    def reactors(self, src: SourceKey, emoji: str) -> set[str]: ...

    def reactions_on(self, src: SourceKey) -> set[tuple[str, str]]:
        """Every reaction held on the message now: ``(user_id, emoji)`` pairs."""
        ...

    def add_tombstone(self, src: SourceKey, at: datetime) -> None: ...

    def is_tombstoned(self, src: SourceKey) -> bool: ...

    def record_edit(self, src: SourceKey, text: str, at: datetime, author: str = "") -> bool: ...

    def latest_edit(self, src: SourceKey) -> tuple[str, datetime] | None: ...

    def advance_read_mark(self, src: SourceKey, at: datetime) -> None: ...

    def read_marks(self, platform: str) -> dict[ChannelRef, tuple[datetime, str]]: ...


class SearchIndex(Protocol):
    """The search documents: a question or know-how with its answers and tags."""

    def reindex_thread_of(self, entry_id: int) -> None: ...

    def reindex(self, entry_id: int) -> None:
        """Rebuild one question's or know-how's document now."""
        ...

    def deferred_reindex(self) -> AbstractContextManager[None]: ...

    def flush_reindex(self) -> int: ...


class TextSearch(Protocol):
    """Full-text search and the similar-question finder's index, in the backend's own dialect.

    The core (:mod:`knowledge.search`, :mod:`knowledge.similar`) decides what to
    look for and how results are shown; these methods find and rank. Every one
    that returns entries takes the viewer and applies the visibility rule in its
    query, answers included: a question is never found by the words of an
    answer its viewer may not see. User text reaches them parsed (a
    :class:`~knowledge.query.ParsedQuery`, single words), never as query syntax.
    """

    def keyword_matches(
        self, query: ParsedQuery, viewer: Audience, *, limit: int
    ) -> list[ScoredEntry]:
        """The best ``limit`` entries for ``query`` that ``viewer`` may see, best first.

        With words: questions and know-how holding every word (common words
        dropped while others remain), ranked by text with the field weights and
        boosts of :mod:`knowledge.relevance`; when none does, any word. With
        ``kind:answer``: answers whose own text holds the words, newest first.
        Filters only: newest first. Never raises on user text.
        """

    def matching_ids(self, query: ParsedQuery, viewer: Audience, *, limit: int) -> list[int]:
        """Ids of the questions and know-how ``viewer`` may see whose document holds every
        word of ``query`` (no fallback, no ranking: oldest first), at most ``limit``."""

    def stem_words(self, words: Sequence[str]) -> list[str | None]:
        """Each word as the index stores it (``None`` for a word it would not index alone)."""

    def document_count(self) -> int:
        """How many search documents there are (an estimate in a big repertoire)."""

    def document_frequencies(self, stems: Sequence[str], n_docs: int) -> dict[str, int]:
        """How many documents hold each stem (capped or cached in a big repertoire)."""

    def stems_present(
        self, texts: Mapping[int, str], stems: Iterable[str]
    ) -> dict[int, frozenset[str]]:
        """Which of ``stems`` each text holds, stemmed as the index would."""

    def similar_candidates(self, lookup: SimilarLookup) -> list[ScoredEntry]:
        """Questions and know-how sharing the lookup's terms, best first, for its viewer."""


class DigestLogStore(Protocol):
    """Claim, post, mark: each (channel, period) digest and each follow-up exactly once."""

    def claim(self, channel: str, start: datetime, end: datetime, now: datetime) -> int | None: ...

    def mark(self, run_id: int, status: str, at: datetime, message_id: str = "") -> None: ...

    def find(self, channel: str, start: datetime, end: datetime) -> DigestRun | None: ...

    def runs(self, channel: str | None = None) -> list[DigestRun]: ...

    def claim_follow_up(self, entry_id: int, channel: str, now: datetime) -> bool: ...

    def mark_follow_up(
        self, entry_id: int, status: str, at: datetime, message_id: str = ""
    ) -> None: ...

    def followed_up(self) -> set[int]: ...


class Storage(
    Transactions,
    EntryStore,
    EntryListing,
    MemberStore,
    ChannelStore,
    EventOrder,
    SearchIndex,
    TextSearch,
    Protocol,
):
    """The whole interface a backend implements."""

    @property
    def digest_log(self) -> DigestLogStore: ...

    def role_lock(self, role: str) -> RoleLock:
        """The lock deciding which process holds ``role`` (``knowledge.storage.roles``)."""
        ...
