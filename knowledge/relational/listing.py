"""Entry listings in SQL: an :class:`EntryFilter` as a ``WHERE`` clause, and the named listings.

Shared by every backend (portable SQL, ``?`` placeholders). The named
listings (:meth:`EntryListings.open_questions`, :meth:`EntryListings.due_follow_ups`, ...) are
what the core asks for; they are built on the one generic listing,
:meth:`EntryListings.entries`, which applies the visibility rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from knowledge.models import ChannelRef, Entry, EntryKind, to_db_time
from knowledge.relational.base import RelationalBase
from knowledge.relational.rows import row_to_entry
from knowledge.relational.visibility import visibility_clause
from knowledge.storage.listing import EntryFilter, EntryOrder
from knowledge.storage.viewer import Viewer

__all__ = ["ORDER_SQL", "EntryListings", "filter_sql"]

ORDER_SQL: dict[EntryOrder, str] = {
    "newest": "e.created_at DESC, e.id DESC",
    "oldest": "e.created_at ASC, e.id ASC",
    "id": "e.id",
}

# Columns of ``entries`` (alias ``e``) compared for equality, by filter field.
_EQUAL = (
    ("platform", "e.platform = ?"),
    ("workspace", "e.workspace = ?"),
    ("channel_id", "e.channel = ?"),
    ("channel_name", "lower(e.channel_name) = lower(?)"),
    ("message_id", "e.message_id = ?"),
    ("thread_id", "e.thread_id = ?"),
)


def _in(column: str, values: tuple[Any, ...]) -> str:
    if not values:
        return "0 = 1"  # an empty set matches nothing
    return f"{column} IN ({', '.join('?' for _ in values)})"


def filter_sql(wanted: EntryFilter) -> tuple[list[str], list[Any]]:
    """The conditions (on ``entries`` as ``e``) and their parameters, in order."""
    conditions: list[str] = []
    params: list[Any] = []
    if wanted.kinds:
        conditions.append(_in("e.kind", wanted.kinds))
        params += [kind.value for kind in wanted.kinds]
    for name, values in (("e.id", wanted.ids), ("e.author_id", wanted.authors)):
        if values is not None:
            conditions.append(_in(name, values))
            params += values
    for field, condition in _EQUAL:
        value = getattr(wanted, field)
        if value is not None:
            conditions.append(condition)
            params.append(value)
    for moment, condition in (
        (wanted.created_from, "e.created_at >= ?"),
        (wanted.created_before, "e.created_at < ?"),
        (wanted.created_until, "e.created_at <= ?"),
    ):
        if moment is not None:
            conditions.append(condition)
            params.append(to_db_time(moment))
    for flag, true_sql, false_sql in (
        (wanted.answered, "e.answer_count > 0", "e.answer_count = 0"),
        (wanted.has_accepted, "e.has_accepted = TRUE", "e.has_accepted = FALSE"),
        (wanted.accepted, "e.accepted = TRUE", "e.accepted = FALSE"),
    ):
        if flag is not None:
            conditions.append(true_sql if flag else false_sql)
    if wanted.exclude_dm:
        conditions.append("e.visibility != 'dm'")
    if wanted.without_follow_up:
        conditions.append("e.id NOT IN (SELECT entry_id FROM follow_ups WHERE status != 'failed')")
    return conditions, params


class EntryListings(RelationalBase):
    """The one generic listing, and the listings the core asks for by name; each says for whom."""

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
            visible, visible_params = visibility_clause(viewer)
            conditions, params = [visible, *conditions], [*visible_params, *params]
        return conditions or ["1 = 1"], params

    def entry_for(self, viewer: Viewer, entry_id: int) -> Entry | None:
        """Entry ``entry_id`` if ``viewer`` may see it; ``None`` alike when it is missing or not."""
        found = self.entries(viewer, EntryFilter(ids=(entry_id,)), limit=1)
        return found[0] if found else None

    def open_questions(
        self, viewer: Viewer, channel: ChannelRef, since: datetime, limit: int = 100
    ) -> list[Entry]:
        """Questions of ``channel`` asked since ``since`` with no answer yet, oldest first."""
        wanted = EntryFilter(kinds=(EntryKind.QUESTION,), created_from=since, answered=False)
        return self.entries(viewer, wanted.in_channel(channel), order="oldest", limit=limit)

    def questions_asked(
        self, viewer: Viewer, channel: ChannelRef, since: datetime, limit: int = 100
    ) -> list[Entry]:
        """Questions of ``channel`` asked since ``since``, answered or not, newest first."""
        wanted = EntryFilter(kinds=(EntryKind.QUESTION,), created_from=since)
        return self.entries(viewer, wanted.in_channel(channel), order="newest", limit=limit)

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
    ) -> list[Entry]:
        """Unanswered questions of a channel (by id or name) asked in the window, oldest first.

        The window includes both its ends.

        Never a DM, never one that got (or is getting) its follow-up. The follow-up
        is posted in the question's own thread, so the viewer is the question's channel;
        questions of every matching channel are listed for the scheduler, which
        shows each only there.
        """
        wanted = EntryFilter(
            kinds=(EntryKind.QUESTION,),
            platform=platform,
            workspace=workspace,
            channel_id=channel_id,
            channel_name=channel_name,
            created_from=asked_from,
            created_until=asked_until,
            answered=False,
            exclude_dm=True,
            without_follow_up=True,
        )
        return self.entries(
            Viewer.operator_including_private(), wanted, order="oldest", limit=limit
        )

    def latest_answer_in_thread(
        self, viewer: Viewer, channel: ChannelRef, thread_id: str, authors: tuple[int, ...]
    ) -> Entry | None:
        """The newest answer by one of ``authors`` in a thread of ``channel``."""
        wanted = EntryFilter(kinds=(EntryKind.ANSWER,), thread_id=thread_id, authors=authors)
        found = self.entries(viewer, wanted.in_channel(channel), order="newest", limit=1)
        return found[0] if found else None
