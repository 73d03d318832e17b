"""The set-wise load of a history import: the rows the capture rules decided, written at once.

A big history import into an empty repertoire does not need the capture rules
to run statement by statement against the database: ``bot.setwise_import``
applies the very same rules to the export's events in memory and hands the
outcome here as plain rows, in the order the one-by-one replay would have
written them (so ids, and every export, come out the same). The backend then
writes them in bulk and builds the search documents once, set-wise.

Rows are plain tuples (a million of them are made per import; a dataclass each
would cost more than the insert). Their columns, in order, are the ``*_COLUMNS``
below. A repertoire offers its backend's path as ``setwise_loader()`` (SQLite:
:class:`~knowledge.sqlite.setwise_load.SqliteSetwiseLoader`; PostgreSQL:
:class:`~knowledge.postgres.setwise_load.PostgresSetwiseLoader`, with ``COPY``);
one without a set-wise path returns ``None``, and the import replays event by event.

A backend may also write the rows in parts while the import goes on
(:class:`SetwiseParts`, from ``SetwiseLoader.parts()``): a channel's rows as soon
as the import has moved on to other channels, all in one transaction that the
last part commits. Memory then holds the open channels, not the whole export.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from knowledge.export_format import REACTION_COLUMNS

__all__ = [
    "CHANNEL_COLUMNS",
    "ENTRY_COLUMNS",
    "MEMBER_COLUMNS",
    "MUST_BE_EMPTY",
    "REACTION_COLUMNS",
    "READ_MARK_COLUMNS",
    "TAG_COLUMNS",
    "THANKS_COLUMNS",
    "ChannelRow",
    "ChannelRows",
    "EntryRow",
    "LoadPlan",
    "MemberRow",
    "ReactionRow",
    "ReadMarkRow",
    "SetwiseLoader",
    "SetwiseParts",
    "TagRow",
    "ThanksRow",
]

#: What the repertoire must not hold yet for the set-wise path (table, what it is): the
#: plan's ids start at 1 and nothing is merged with rows already there.
MUST_BE_EMPTY = (
    ("entries", "entries"),
    ("members", "members"),
    ("channels", "channels"),
    ("reactions", "reactions"),
    ("thanks", "thanks"),
    ("message_tombstones", "deleted messages"),
    ("message_edits", "edits"),
    ("similar_suggestions", "suggestions"),
    ("similar_links", "'solved it' links"),
)

MEMBER_COLUMNS = ("id", "platform", "workspace", "user_id", "handle", "display_name", "created_at")
MemberRow = tuple[int, str, str, str, str, str, str]

CHANNEL_COLUMNS = (
    "platform",
    "workspace",
    "channel",
    "name",
    "visibility",
    "visibility_at",
    "capture_stopped",
)
ChannelRow = tuple[str, str, str, str, str, str, bool]

ENTRY_COLUMNS = (
    "id",
    "kind",
    "platform",
    "workspace",
    "channel",
    "message_id",
    "thread_id",
    "title",
    "text",
    "author_id",
    "saved_by_id",
    "created_at",
    "updated_at",
    "visibility",
    "channel_name",
    "permalink",
    "accepted",
    "knowhow_kind",
)
EntryRow = tuple[
    int, str, str, str, str, str, str | None, str, str, int, int | None, str, str, str, str, str,
    bool, str,
]  # fmt: skip

TAG_COLUMNS = ("entry_id", "tag")
TagRow = tuple[int, str]

ReactionRow = tuple[str, str, str, str, str, str, str, bool]

THANKS_COLUMNS = (
    "id",
    "giver_id",
    "receiver_id",
    "entry_id",
    "reason",
    "via",
    "platform",
    "workspace",
    "channel",
    "visibility",
    "created_at",
)
ThanksRow = tuple[int, int, int, int | None, str, str, str, str, str, str, str]

READ_MARK_COLUMNS = ("platform", "workspace", "channel", "last_message_at", "last_message_id")
ReadMarkRow = tuple[str, str, str, str, str]


@dataclass
class LoadPlan:
    """Everything an import adds, as rows in the order the replay would have written them.

    Each entry's and thank-you's visibility is already its channel's (as the
    triggers would have made it); tags are normalized, one row per entry and tag.
    The rows may come lazily (each iterable is read once, in this order), so a
    big import holds no second copy of them.
    """

    members: Iterable[MemberRow] = ()
    channels: Iterable[ChannelRow] = ()
    entries: Iterable[EntryRow] = ()
    tags: Iterable[TagRow] = ()
    reactions: Iterable[ReactionRow] = ()
    thanks: Iterable[ThanksRow] = ()
    read_marks: Iterable[ReadMarkRow] = ()


@dataclass
class ChannelRows:
    """A channel's rows taken back from the storage (entries, tags, reactions, thanks)."""

    entries: list[EntryRow]
    tags: list[TagRow]
    reactions: list[ReactionRow]
    thanks: list[ThanksRow]


class SetwiseParts(Protocol):
    """Writes a set-wise import in parts, in one transaction, while the import goes on.

    Each part holds whole channels (their entries, tags, reactions and thanks,
    each visibility final) and the members met so far; :meth:`finish` gets the
    rest (every channel and read mark among it).
    """

    def begin(self) -> None:
        """Take the write lock and open the transaction (may raise a transient conflict)."""
        ...

    def write(self, part: LoadPlan) -> None:
        """Write a part's rows; their search documents are built by :meth:`finish` at the latest."""
        ...

    def take_back(self, channel: tuple[str, str, str]) -> ChannelRows:
        """Remove a channel's rows written so far and return them (the import goes on with it)."""
        ...

    def finish(self, rest: LoadPlan, renamed: list[tuple[str, int]]) -> None:
        """Write the rest, rename members (``(display name, id)``), and commit."""
        ...

    def abort(self) -> None:
        """Roll back everything written (after a failure); harmless once finished."""
        ...


class SetwiseLoader(Protocol):
    """A backend's bulk path for a history import into an empty repertoire."""

    def not_empty(self) -> str:
        """Why the set-wise path cannot be used (what the repertoire already holds), or ``""``.

        The plan's ids start at 1 and nothing is merged with existing rows, so
        the repertoire must hold no member content yet (entries, members,
        channels, reactions, thanks, deletes, edits, suggestions, links).
        """
        ...

    def load(self, plan: LoadPlan) -> None:
        """Write the plan and build every search document, inside the caller's transaction."""
        ...

    def parts(self) -> SetwiseParts | None:
        """The way to write the import in parts as it goes, if this backend has one."""
        ...
