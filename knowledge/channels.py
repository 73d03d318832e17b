"""Channels, and the visibility every entry said in them follows.

An entry's visibility is its channel's, as of now: when a channel turns
private, everything said in it turns private at once, and back when it turns
public again. Unknown means private.

How it cannot drift. ``entries.visibility`` (and ``thanks.visibility``) is a
copy of ``channels.visibility`` kept equal by SQLite triggers
(:mod:`knowledge.sqlite.schema_privacy`): changing a channel's row updates its
entries in the same statement, a new entry takes its channel's visibility, and
a write that would make an entry differ from its channel is refused. We keep
the copy rather than join ``channels`` at read time because every read path
filters on it (search re-ranks a hundred candidates by ``e.visibility``;
digests, profiles, experts, stats and similar questions do the same), where it
costs nothing and an index serves it; a join would add a lookup per candidate
on the hottest paths, and a query that forgot the join would leak. A trigger
cannot be forgotten by any writer (live capture, an import, a restore,
another process). What the triggers cannot do (rebuild a search document that
holds another channel's answer) :class:`~knowledge.sqlite.repertoire.Repertoire` does in
the same transaction.

Who may change a channel's visibility (:meth:`ChannelBook.claim`). Every
event says what its adapter believes the channel is; not every belief is
fresh (a Slack reaction or command carries a cached lookup, up to an hour
old). So a claim may always make a channel *more* private (the safe side),
but only an *authoritative* claim (the platform said so with the message
itself: Slack's ``channel_type``, a conversion notice, Discord's current
permissions, an export) at least as recent as the last change may make it
more public.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from knowledge.models import ChannelRef, to_db_time
from knowledge.storage.sql import Sql

__all__ = ["VISIBILITY_RANK", "ChannelBook", "ChannelState", "rank", "settle_visibility"]

#: Visibilities from the most open to the most closed. Anything else counts as closed.
VISIBILITY_RANK = {"public": 0, "private": 1, "dm": 2}


def rank(visibility: str) -> int:
    """How closed a visibility is (an unknown value is the most closed)."""
    return VISIBILITY_RANK.get(visibility, len(VISIBILITY_RANK))


@dataclass(frozen=True, slots=True)
class ChannelState:
    """What the repertoire knows of a channel."""

    name: str
    visibility: str
    #: When the visibility last changed (the claim's event time; ``""`` when unknown).
    visibility_at: str
    capture_stopped: bool


def settle_visibility(
    current: ChannelState | None,
    visibility: str,
    at: datetime | None,
    *,
    authoritative: bool,
) -> tuple[str, str]:
    """The visibility (and its time) a channel has after a claim: the rule above.

    ``at=None`` is a statement with no time (a restore): it applies as made.
    """
    when = to_db_time(at) if at is not None else ""
    if current is None or at is None:
        return visibility, when
    if visibility == current.visibility:
        return current.visibility, current.visibility_at
    if rank(visibility) > rank(current.visibility):
        return visibility, max(when, current.visibility_at)
    if authoritative and when >= current.visibility_at:
        return visibility, when
    return current.visibility, current.visibility_at


class ChannelBook:
    """The ``channels`` table, with what is stored remembered to skip no-op writes.

    Channels change rarely and are claimed on every event. The memory is
    dropped when a transaction rolls back (:meth:`forget`), so it never says
    what the file does not.
    """

    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        self._known: dict[tuple[str, str, str], ChannelState] = {}

    def forget(self) -> None:
        self._known.clear()

    def state(self, ref: ChannelRef) -> ChannelState | None:
        key = (ref.platform, ref.workspace, ref.channel)
        known = self._known.get(key)
        if known is not None:
            return known
        row = self.sql.one(
            "SELECT name, visibility, visibility_at, capture_stopped FROM channels "
            "WHERE platform = ? AND workspace = ? AND channel = ?",
            [ref.platform, ref.workspace, ref.channel],
        )
        if row is None:
            return None
        state = ChannelState(str(row[0]), str(row[1]), str(row[2]), bool(row[3]))
        self._known[key] = state
        return state

    def claim(
        self,
        ref: ChannelRef,
        name: str,
        visibility: str,
        *,
        at: datetime | None = None,
        authoritative: bool = True,
    ) -> bool:
        """Record what an event says of a channel; ``True`` when its visibility changed."""
        current = self.state(ref)
        new_visibility, new_at = settle_visibility(
            current, visibility, at, authoritative=authoritative
        )
        new_name = name or (current.name if current else "")
        if (
            current is not None
            and current.visibility == new_visibility
            and current.visibility_at == new_at
            and current.name == new_name
        ):
            return False
        self.sql.execute(
            "INSERT INTO channels (platform, workspace, channel, name, visibility, visibility_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (platform, workspace, channel) DO UPDATE SET "
            "name = excluded.name, visibility = excluded.visibility, "
            "visibility_at = excluded.visibility_at",
            [ref.platform, ref.workspace, ref.channel, new_name, new_visibility, new_at],
        )
        self._known[(ref.platform, ref.workspace, ref.channel)] = ChannelState(
            new_name, new_visibility, new_at, current.capture_stopped if current else False
        )
        return current is not None and current.visibility != new_visibility

    def ensure(self, ref: ChannelRef, name: str, visibility: str) -> None:
        """Make sure the channel has a row (an entry written without an event claiming it)."""
        if self.state(ref) is None:
            self.claim(ref, name, visibility)

    def set_capture_stopped(self, ref: ChannelRef, stopped: bool) -> None:
        self._known.pop((ref.platform, ref.workspace, ref.channel), None)
        self.sql.execute(
            "UPDATE channels SET capture_stopped = ? WHERE platform = ? AND workspace = ? "
            "AND channel = ?",
            [bool(stopped), ref.platform, ref.workspace, ref.channel],
        )

    def capture_stopped(self, ref: ChannelRef) -> bool:
        state = self.state(ref)
        return state.capture_stopped if state is not None else False
