"""What a set-wise import has captured so far, in memory, read and written as the repertoire is.

:class:`ImportBook` answers the questions the capture rules ask while an import
runs (the entries of a message, an answer's question, who reacted with ✅, a
member's id) and records what they decide, each write with the storage's own
semantics, named after the :class:`~knowledge.storage.Storage` method it
stands for: ``upsert_member`` renames only on a new non-empty name, a
reaction's last writer by event time wins, ``save_entry`` refreshes an entry
whose message and kind are known, a read mark never moves back, a thank-you
counts once per giver, receiver and entry. Ids are handed out in the order the
replay would have inserted the rows, so :meth:`plan` is, row for row, what the
replay writes (the equivalence test of the import checks that on whole exports).

It starts empty: the set-wise path runs only into an empty repertoire.

Bounded memory. A channel's entries, tags, reactions and thanks are only ever
read and changed by events said in that channel, so once an import has moved
on to other channels, :meth:`close` hands them over as rows (to be written while
the import goes on) and forgets them; members, channels and read marks (a few
rows per person or channel) stay. Should a closed channel come back (an export
not grouped by channel), :meth:`reopen` takes its rows back from the storage.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from knowledge.channels import ChannelState, settle_visibility
from knowledge.models import ChannelRef, Entry, EntryKind, SourceKey, from_db_time, to_db_time
from knowledge.storage.setwise import EntryRow, LoadPlan, ReactionRow, TagRow, ThanksRow
from knowledge.text import normalize_tag

__all__ = ["EntryRecord", "ImportBook"]

#: Positions in an entry record (the columns of ``knowledge.storage.setwise.ENTRY_COLUMNS``).
ID, KIND, PLATFORM, WORKSPACE, CHANNEL, MESSAGE_ID, THREAD_ID, TITLE, TEXT = range(9)
AUTHOR_ID, SAVED_BY_ID, CREATED_AT, UPDATED_AT, VISIBILITY, CHANNEL_NAME = range(9, 15)
PERMALINK, ACCEPTED, KNOWHOW_KIND = range(15, 18)

#: An entry as a mutable row (a list in ``ENTRY_COLUMNS`` order): a million are made.
EntryRecord = list[Any]

_MessageKey = tuple[str, str, str, str]
_ChannelKey = tuple[str, str, str]
#: A reaction within its channel: (message id, user id, emoji).
_ReactionKey = tuple[str, str, str]


class ImportBook:
    """Members, channels, entries, reactions, thanks and read marks of one import."""

    def __init__(self, accept_emoji: str) -> None:
        #: The one reaction whose reactors the rules ask for (acceptance).
        self.accept_emoji = accept_emoji
        #: (platform, workspace, user id) -> [id, handle, display name, created at].
        self.members: dict[tuple[str, str, str], list[Any]] = {}
        self._member_user: dict[int, str] = {}
        self._member_name: dict[int, tuple[str, str, str]] = {}
        self.channels: dict[_ChannelKey, ChannelState] = {}
        #: The entries held (not closed), by id, and by channel.
        self.entries: dict[int, EntryRecord] = {}
        self._channel_entries: dict[_ChannelKey, list[EntryRecord]] = {}
        self._entry_count = 0
        self._by_message: dict[_MessageKey, list[EntryRecord]] = {}
        self._answers_in: dict[_MessageKey, list[EntryRecord]] = {}
        self._tags: dict[int, list[str]] = {}
        #: Per channel: (message id, user id, emoji) -> [created at, present], in insertion order.
        self.reactions: dict[_ChannelKey, dict[_ReactionKey, list[Any]]] = {}
        self._present: dict[_MessageKey, set[str]] = {}
        #: Per channel: (giver, receiver, entry) -> the thanks row.
        self._thanks: dict[_ChannelKey, dict[tuple[int, int, int], tuple[Any, ...]]] = {}
        self._thanks_count = 0
        self._read_marks: dict[_ChannelKey, tuple[str, str]] = {}
        #: Members handed over by :meth:`close` (ids 1..n), and those renamed since.
        self._members_written = 0
        self._renamed: set[int] = set()
        #: Channels whose rows :meth:`close` handed over (until :meth:`reopen`).
        self.closed: set[_ChannelKey] = set()

    # ------------------------------------------------------------------ members

    def upsert_member(
        self, platform: str, workspace: str, user_id: str, display_name: str = "", *,
        refresh: bool = True,
    ) -> int:  # fmt: skip
        key = (platform, workspace, user_id)
        known = self.members.get(key)
        if known is not None:
            member_id = int(known[0])
            if refresh and display_name and display_name != known[2]:
                known[2] = display_name
                self._member_name[member_id] = (display_name, str(known[1]), user_id)
                if member_id <= self._members_written:
                    self._renamed.add(member_id)
            return member_id
        member_id = len(self.members) + 1
        self.members[key] = [member_id, "", display_name, to_db_time(datetime.now(UTC))]
        self._member_user[member_id] = user_id
        self._member_name[member_id] = (display_name, "", user_id)
        return member_id

    def user_id_of(self, member_id: int) -> str:
        return self._member_user[member_id]

    def name_of(self, member_id: int) -> str:
        """The author name entries show: display name, else handle, else user id."""
        display, handle, user_id = self._member_name[member_id]
        return display or handle or user_id

    # ------------------------------------------------------------------ channels

    def claim_channel(
        self, ref: _ChannelKey, name: str, visibility: str, *, at: datetime | None,
        authoritative: bool,
    ) -> None:  # fmt: skip
        """What ``ChannelBook.claim`` does with a claim (the rule is :func:`settle_visibility`)."""
        current = self.channels.get(ref)
        new_visibility, new_at = settle_visibility(
            current, visibility, at, authoritative=authoritative
        )
        new_name = name or (current.name if current else "")
        self.channels[ref] = ChannelState(new_name, new_visibility, new_at, False)

    # ------------------------------------------------------------------ entries

    def save_entry(
        self, kind: EntryKind, src: SourceKey, text: str, author_id: int, created_at: str,
        visibility: str, title: str, thread_id: str | None, permalink: str,
        tags: tuple[str, ...], channel_name: str, knowhow_kind: str = "",
        saved_by_id: int | None = None,
    ) -> tuple[EntryRecord, bool]:  # fmt: skip
        """``Repertoire.save_entry``: a new entry, or the known one refreshed; ``created``."""
        message = (src.platform, src.workspace, src.channel, src.message_id)
        for known in self._by_message.get(message, ()):
            if known[KIND] == kind:
                known[TEXT] = text
                if title:
                    known[TITLE] = title
                if permalink:
                    known[PERMALINK] = permalink
                if knowhow_kind:
                    known[KNOWHOW_KIND] = knowhow_kind
                self._add_tags(known[ID], tags)
                return known, False
        channel = (src.platform, src.workspace, src.channel)
        if channel not in self.channels:  # ChannelBook.ensure
            self.claim_channel(channel, channel_name, visibility, at=None, authoritative=True)
        self._entry_count += 1
        entry_id = self._entry_count
        record: EntryRecord = [
            entry_id, kind.value, src.platform, src.workspace, src.channel, src.message_id,
            thread_id, title, text, author_id, saved_by_id, created_at, created_at, visibility,
            channel_name, permalink, False, knowhow_kind,
        ]  # fmt: skip
        self.entries[entry_id] = record
        self._channel_entries.setdefault(channel, []).append(record)
        self._by_message.setdefault(message, []).append(record)
        if kind == EntryKind.ANSWER and thread_id is not None:
            self._answers_in.setdefault((*channel, thread_id), []).append(record)
        if tags:
            self._add_tags(entry_id, tags)
        return record, True

    def _add_tags(self, entry_id: int, tags: tuple[str, ...]) -> None:
        kept = self._tags.setdefault(entry_id, [])
        for tag in tags:
            tag = normalize_tag(tag)
            if tag and tag not in kept:
                kept.append(tag)

    def entries_for_message(self, src: SourceKey) -> list[EntryRecord]:
        return self._by_message.get((src.platform, src.workspace, src.channel, src.message_id), [])

    def answers_for(self, question: EntryRecord) -> list[EntryRecord]:
        key = (question[PLATFORM], question[WORKSPACE], question[CHANNEL])
        return self._answers_in.get((*key, question[MESSAGE_ID]), [])

    def thread_root(self, entry: EntryRecord) -> EntryRecord | None:
        """The question (else the know-how) whose thread ``entry`` is in."""
        thread = entry[THREAD_ID]
        if thread is None:
            return None
        message = (entry[PLATFORM], entry[WORKSPACE], entry[CHANNEL], str(thread))
        roots = [e for e in self._by_message.get(message, ()) if e[KIND] != EntryKind.ANSWER]
        roots.sort(key=lambda e: e[KIND] != EntryKind.QUESTION)
        return roots[0] if roots else None

    def question_for_thread(self, ref: ChannelRef, thread_id: str) -> Entry | None:
        message = (ref.platform, ref.workspace, ref.channel, thread_id)
        for known in self._by_message.get(message, ()):
            if known[KIND] == EntryKind.QUESTION:
                return self.as_entry(known)
        return None

    def set_accepted(self, entry: EntryRecord, accepted: bool) -> bool:
        if entry[KIND] != EntryKind.ANSWER or bool(entry[ACCEPTED]) == accepted:
            return False
        entry[ACCEPTED] = accepted
        return True

    def as_entry(self, record: EntryRecord) -> Entry:
        """The record as the repertoire would return it (for rules that take an ``Entry``)."""
        author_id = record[AUTHOR_ID]
        return Entry(
            id=record[ID],
            kind=EntryKind(record[KIND]),
            source=SourceKey(
                record[PLATFORM],
                record[WORKSPACE],
                record[CHANNEL],
                record[MESSAGE_ID],
            ),
            title=record[TITLE],
            text=record[TEXT],
            author_id=author_id,
            author_name=self.name_of(author_id),
            created_at=from_db_time(record[CREATED_AT]),
            updated_at=from_db_time(record[UPDATED_AT]),
            visibility=self.visibility_of(record),
            channel_name=record[CHANNEL_NAME],
            thread_id=None if record[THREAD_ID] is None else record[THREAD_ID],
            permalink=record[PERMALINK],
            accepted=bool(record[ACCEPTED]),
            knowhow_kind=record[KNOWHOW_KIND],
            tags=tuple(sorted(self._tags.get(record[ID], ()))),
        )

    def visibility_of(self, record: EntryRecord) -> str:
        """An entry's visibility is its channel's (the triggers' rule)."""
        state = self.channels.get((record[PLATFORM], record[WORKSPACE], record[CHANNEL]))
        return state.visibility if state is not None else record[VISIBILITY]

    # ------------------------------------------------------------------ reactions

    def add_reaction(self, src: SourceKey, user_id: str, emoji: str, at: str) -> None:
        """A reaction added: the last writer by event time wins (the set-wise path takes
        no removal, so the rule's tie-break for one never comes up)."""
        channel = (src.platform, src.workspace, src.channel)
        in_channel = self.reactions.get(channel)
        if in_channel is None:
            in_channel = self.reactions[channel] = {}
        key = (src.message_id, user_id, emoji)
        known = in_channel.get(key)
        if known is None:
            in_channel[key] = [at, True]
        elif at > known[0]:
            known[0] = at
        if emoji == self.accept_emoji:
            message = (*channel, src.message_id)
            self._present.setdefault(message, set()).add(user_id)

    def acceptors(self, src: SourceKey) -> set[str]:
        """Who reacted to the message with the accept reaction (``Repertoire.reactors``)."""
        return self._present.get((src.platform, src.workspace, src.channel, src.message_id), set())

    # ------------------------------------------------------------------ thanks and marks

    def record_thanks(
        self, giver_id: int, receiver_id: int, entry_id: int, where: ChannelRef,
        visibility: str, at: str,
    ) -> None:  # fmt: skip
        """A thank-you by reaction, once per giver, receiver and entry; never to oneself."""
        channel = (where.platform, where.workspace, where.channel)
        in_channel = self._thanks.setdefault(channel, {})
        if giver_id == receiver_id or (giver_id, receiver_id, entry_id) in in_channel:
            return
        self._thanks_count += 1
        in_channel[(giver_id, receiver_id, entry_id)] = (
            self._thanks_count, giver_id, receiver_id, entry_id, "", "reaction",
            where.platform, where.workspace, where.channel, visibility, at,
        )  # fmt: skip

    def advance_read_mark(self, channel: _ChannelKey, message_id: str, at: str) -> None:
        known = self._read_marks.get(channel)
        if known is None or at > known[0]:
            self._read_marks[channel] = (at, message_id)

    # ------------------------------------------------------------------ the plan

    def plan(self) -> LoadPlan:
        """Every row not yet handed over, in the replay's order, each visibility its channel's.

        The big sections are generators over the book (no second copy of it).
        Channels and read marks are all here (:meth:`close` never hands them over).
        """
        channels = [
            (platform, workspace, channel, state.name, state.visibility, state.visibility_at,
             state.capture_stopped)
            for (platform, workspace, channel), state in self.channels.items()
        ]  # fmt: skip
        held = sorted(self.entries.values(), key=lambda record: int(record[ID]))
        return LoadPlan(
            members=self._new_members(),
            channels=channels,
            entries=self._entry_rows(held),
            tags=self._tag_rows(held),
            reactions=self._reaction_rows(self.reactions.items()),
            thanks=self._thanks_rows(self._thanks.items()),
            read_marks=[(*key, at, mid) for key, (at, mid) in self._read_marks.items()],
        )

    def renamed_members(self) -> list[tuple[str, int]]:
        """(display name, id) of members handed over by :meth:`close` and renamed since."""
        return [(self._member_name[member_id][0], member_id) for member_id in sorted(self._renamed)]

    def close(self, channels: Iterable[_ChannelKey]) -> LoadPlan:
        """The rows of ``channels`` (and the members met so far), handed over and forgotten.

        Their visibility is final: only an event said in a channel can change it.
        """
        chosen = [key for key in channels if key not in self.closed]
        self.closed.update(chosen)
        held: list[EntryRecord] = []
        for key in chosen:
            for record in self._channel_entries.pop(key, ()):
                held.append(record)
                del self.entries[record[ID]]
                self._by_message.pop((*key, record[MESSAGE_ID]), None)
                if record[THREAD_ID] is not None:
                    self._answers_in.pop((*key, record[THREAD_ID]), None)
        reactions = [(key, self.reactions.pop(key, {})) for key in chosen]
        for key, in_channel in reactions:
            for message_id, _user, _emoji in in_channel:
                self._present.pop((*key, message_id), None)
        held.sort(key=lambda record: int(record[ID]))
        tags = list(self._tag_rows(held))
        for record in held:
            self._tags.pop(record[ID], None)
        return LoadPlan(
            members=list(self._new_members()),
            entries=list(self._entry_rows(held)),
            tags=tags,
            reactions=list(self._reaction_rows(reactions)),
            thanks=list(self._thanks_rows((key, self._thanks.pop(key, {})) for key in chosen)),
        )

    def reopen(
        self, channel: _ChannelKey, entries: Iterable[EntryRow], tags: Iterable[TagRow],
        reactions: Iterable[ReactionRow], thanks: Iterable[ThanksRow],
    ) -> None:  # fmt: skip
        """Take back a closed channel's rows (as :meth:`close` gave them) to go on with it."""
        self.closed.discard(channel)
        records = self._channel_entries.setdefault(channel, [])
        for row in entries:
            record: EntryRecord = list(row)
            record[ACCEPTED] = bool(record[ACCEPTED])
            self.entries[record[ID]] = record
            records.append(record)
            self._by_message.setdefault((*channel, record[MESSAGE_ID]), []).append(record)
            if record[KIND] == EntryKind.ANSWER and record[THREAD_ID] is not None:
                self._answers_in.setdefault((*channel, record[THREAD_ID]), []).append(record)
        for entry_id, tag in tags:
            self._tags.setdefault(entry_id, []).append(tag)
        in_channel = self.reactions.setdefault(channel, {})
        for _platform, _workspace, _channel, message_id, user_id, emoji, at, present in reactions:
            in_channel[(message_id, user_id, emoji)] = [at, bool(present)]
            if emoji == self.accept_emoji and present:
                self._present.setdefault((*channel, message_id), set()).add(user_id)
        given = self._thanks.setdefault(channel, {})
        for thanks_row in thanks:
            given[(thanks_row[1], thanks_row[2], int(thanks_row[3] or 0))] = thanks_row

    def _new_members(self) -> Iterator[tuple[int, str, str, str, str, str, str]]:
        """Members not handed over yet (ids are given in order: those above the last one)."""
        written = self._members_written
        self._members_written = len(self.members)
        for (platform, workspace, user_id), (member_id, handle, name, at) in self.members.items():
            if member_id > written:
                yield (member_id, platform, workspace, user_id, str(handle), str(name), str(at))

    def _entry_rows(self, records: Iterable[EntryRecord]) -> Iterator[EntryRow]:
        channel_visibility = {key: state.visibility for key, state in self.channels.items()}
        for record in records:
            said_in = (record[PLATFORM], record[WORKSPACE], record[CHANNEL])
            record[VISIBILITY] = channel_visibility.get(said_in, record[VISIBILITY])
            yield tuple(record)

    def _tag_rows(self, records: Iterable[EntryRecord]) -> Iterator[TagRow]:
        for record in records:
            for tag in self._tags.get(record[ID], ()):
                yield (record[ID], tag)

    @staticmethod
    def _reaction_rows(
        channels: Iterable[tuple[_ChannelKey, dict[_ReactionKey, list[Any]]]],
    ) -> Iterator[ReactionRow]:
        for channel, in_channel in channels:
            for key, (at, present) in in_channel.items():
                yield (*channel, *key, str(at), bool(present))

    def _thanks_rows(
        self, channels: Iterable[tuple[_ChannelKey, dict[tuple[int, int, int], tuple[Any, ...]]]]
    ) -> Iterator[ThanksRow]:
        for channel, given in channels:
            state = self.channels.get(channel)
            for row in given.values():
                visibility = state.visibility if state is not None else row[9]
                yield (*row[:9], visibility, row[10])
