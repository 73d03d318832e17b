"""Dataclasses the store returns. Plain values, so callers never see SQL rows."""

from __future__ import annotations

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
    "PublicWeb",
    "SearchHit",
    "SourceKey",
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
class PublicWeb:
    """The viewer "the public web": what anyone on the internet may read.

    Public entries of the channels the operator chose to publish (and that are
    still public now), by members who have not opted out. It is a viewer like a
    channel, so the one visibility rule (:func:`knowledge.relational.visibility.visibility_clause`)
    applies it everywhere, answers included.
    """

    channels: frozenset[ChannelRef] = frozenset()
    #: Members (every linked identity of them) who said ``/cop web off``.
    hidden_authors: frozenset[int] = frozenset()


#: Who will see a result: a channel (public entries and its own), the public web,
#: or ``None`` for public entries anywhere (the CLI).
Audience = ChannelRef | PublicWeb | None


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
