"""Dataclasses the store returns. Plain values, so callers never see SQL rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

__all__ = [
    "Audience",
    "ChannelRef",
    "DigestRun",
    "Entry",
    "EntryKind",
    "Expert",
    "KnownChannel",
    "Member",
    "NewEntry",
    "SearchHit",
    "SourceKey",
    "Viewer",
    "from_db_time",
    "to_db_time",
    "utc",
]


class EntryKind(StrEnum):
    """The three kinds of entry in a practice's repertoire."""

    QUESTION = "question"
    ANSWER = "answer"
    KNOWHOW = "knowhow"


@dataclass(frozen=True, slots=True)
class SourceKey:
    """Where an entry came from; unique per entry, so a replay never makes two."""

    platform: str
    workspace: str
    channel: str
    message_id: str


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """A channel as the viewer of a result: the visibility rule is checked against it."""

    platform: str
    workspace: str
    channel: str


@dataclass(frozen=True, slots=True)
class Viewer:
    """Where a result will be shown: the one argument every read of member content takes.

    The visibility rule: an entry is shown to a viewer when it is public, or when
    the viewer *is* the channel it was said in. Unknown means private. An answer
    is held to the same rule by itself (a public question's answer from a private
    channel stays private), and an entry's visibility is its channel's as of now.

    Build one with :meth:`in_channel`, :meth:`public`, :meth:`public_web` or
    :meth:`operator_including_private`; the fields are for backends, which apply
    the rule in their queries (:func:`knowledge.relational.visibility.visibility_clause`).
    The operator's view sees everything; it has a long name on purpose, so no
    code path takes it by accident. The public web sees less than "public": only
    the channels the operator published, and nobody who opted out.
    """

    #: The channel the result is shown in (its own entries are visible there), or ``None``.
    channel: ChannelRef | None = None
    #: The operator's view: every entry, private ones included.
    includes_private: bool = False
    #: The public web: the published channels (``None``: this viewer is not the web).
    published: frozenset[ChannelRef] | None = None
    #: On the public web: members (every linked identity of them) who said ``/cop web off``.
    hidden_authors: frozenset[int] = frozenset()

    @classmethod
    def in_channel(cls, channel: ChannelRef) -> Viewer:
        """A result shown in ``channel``: public entries plus that channel's own."""
        return cls(channel=channel)

    @classmethod
    def public(cls) -> Viewer:
        """Public entries only (the command line, a channel copbot never saw)."""
        return cls()

    @classmethod
    def public_web(
        cls, published: Iterable[ChannelRef], hidden_authors: Iterable[int] = ()
    ) -> Viewer:
        """What anyone on the internet may read: public entries of the ``published``
        channels (none until the operator chooses), by members not in ``hidden_authors``."""
        return cls(published=frozenset(published), hidden_authors=frozenset(hidden_authors))

    @classmethod
    def operator_including_private(cls) -> Viewer:
        """Everything, private channels and DMs included: only for an operator's own export."""
        return cls(includes_private=True)

    @property
    def is_public_web(self) -> bool:
        """Whether this is the public web (fewer entries than :meth:`public`: opt-outs hold)."""
        return self.published is not None

    def publishes(self, channel: ChannelRef) -> bool:
        """Whether this is the public web and ``channel`` is one of its published channels."""
        return self.published is not None and channel in self.published

    def only_channel(self, channel: ChannelRef) -> Viewer | None:
        """The public web narrowed to one published channel (``None``: not published)."""
        if not self.publishes(channel):
            return None
        return Viewer.public_web({channel}, self.hidden_authors)

    def sees(self, entry: Entry) -> bool:
        """The visibility rule for one entry (the backends apply the same rule in their queries)."""
        if self.includes_private:
            return True
        if self.published is not None:
            return (
                entry.visibility == "public"
                and entry.channel_ref in self.published
                and entry.author_id not in self.hidden_authors
            )
        return entry.visibility == "public" or (
            self.channel is not None and entry.channel_ref == self.channel
        )


#: Who will see a result: a :class:`Viewer`, or (older call sites) a channel, or ``None``
#: for public entries anywhere (the CLI).
Audience = ChannelRef | Viewer | None


@dataclass(frozen=True, slots=True)
class NewEntry:
    """What capture hands to the store to create or refresh an entry."""

    kind: EntryKind
    source: SourceKey
    text: str
    author_id: int
    created_at: datetime
    visibility: str
    title: str = ""
    thread_id: str | None = None
    permalink: str = ""
    tags: tuple[str, ...] = ()
    knowhow_kind: str = ""
    channel_name: str = ""
    saved_by_id: int | None = None


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    platform: str
    workspace: str
    user_id: str
    display_name: str


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    kind: EntryKind
    source: SourceKey
    title: str
    text: str
    author_id: int
    author_name: str
    created_at: datetime
    updated_at: datetime
    visibility: str
    channel_name: str
    thread_id: str | None
    permalink: str
    accepted: bool
    knowhow_kind: str
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def channel_ref(self) -> ChannelRef:
        return ChannelRef(self.source.platform, self.source.workspace, self.source.channel)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A question or know-how entry that matched, with its best answer if any."""

    entry: Entry
    score: float
    snippet: str
    answer: Entry | None = None
    answer_snippet: str = ""
    answer_count: int = 0
    #: Why a similar-question hit matched: the question's words it shares, rarest first.
    matched: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Expert:
    """A member ranked for a topic, with the evidence behind the rank."""

    member: Member
    score: float
    accepted_answers: int
    answers: int
    knowhow: int
    latest: datetime | None


@dataclass(frozen=True, slots=True)
class DigestRun:
    """One row of the digest log."""

    id: int
    channel: str
    period_start: datetime
    period_end: datetime
    status: str
    claimed_at: datetime
    posted_at: datetime | None
    message_id: str


@dataclass(frozen=True, slots=True)
class KnownChannel:
    """A channel as copbot last saw it: where it is, its name and its visibility now."""

    ref: ChannelRef
    name: str
    visibility: str


def utc(dt: datetime) -> datetime:
    """Return ``dt`` as an aware UTC datetime (naive values are taken as UTC)."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def to_db_time(dt: datetime) -> str:
    """The one text form times take in the database: sortable ISO 8601 UTC."""
    # isoformat, not strftime: strftime("%Y") does not zero-pad years before 1000 on
    # every platform, and these strings are compared as text.
    return utc(dt).isoformat(timespec="microseconds").replace("+00:00", "Z")


def from_db_time(value: str) -> datetime:
    """Parse :func:`to_db_time`'s form (``fromisoformat`` is ~10x faster than ``strptime``)."""
    return datetime.fromisoformat(value)
