"""The digest archive of a published channel, rendered from its entries for any period.

Posted digests are not stored, and the archive does not store them: a digest
posted in a public channel holds public entries from every channel (also ones
not published on the web), and a stored text would keep the words of a
message deleted later, of a member forgotten or opted out, or of a channel
that turned private. So each archive page is the digest of one period computed
now, with the :class:`PublicWeb` viewer narrowed to that one channel: what the
channel learned in that period, as far as the web may see it today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from knowledge.activity import (
    AnsweredQuestion,
    Helper,
    PeriodActivity,
    answered_questions,
    helpers,
    new_knowhow,
    period_activity,
)
from knowledge.models import ChannelRef, Entry, PublicWeb, from_db_time, to_db_time
from knowledge.store import Repertoire, visibility_clause


@dataclass(frozen=True, slots=True)
class PeriodDigest:
    """What one published channel learned in ``[start, end)``."""

    start: datetime
    end: datetime
    knowhow: tuple[Entry, ...]
    knowhow_total: int
    answered: tuple[AnsweredQuestion, ...]
    answered_total: int
    still_open: tuple[Entry, ...]
    still_open_total: int
    helpers: tuple[Helper, ...]
    activity: PeriodActivity

    @property
    def is_empty(self) -> bool:
        return self.activity.is_empty and not self.answered


def channel_only(web: PublicWeb, channel: ChannelRef) -> PublicWeb | None:
    """The web viewer narrowed to one channel; ``None`` when that channel is not published."""
    if channel not in web.channels:
        return None
    return PublicWeb(frozenset({channel}), web.hidden_authors)


def channel_span(
    repertoire: Repertoire, web: PublicWeb, channel: ChannelRef
) -> tuple[datetime, datetime] | None:
    """When the channel's first and latest published entries were made (``None``: none)."""
    narrowed = channel_only(web, channel)
    if narrowed is None:
        return None
    visible, params = visibility_clause(narrowed, "e")
    where = "e.platform = ? AND e.workspace = ? AND e.channel = ?"
    key = [channel.platform, channel.workspace, channel.channel]
    bounds = []
    for order in ("ASC", "DESC"):  # each one walk of the (channel, created_at) index
        row = repertoire.db.execute(
            f"SELECT e.created_at FROM entries e WHERE {where} AND {visible} "
            f"ORDER BY e.created_at {order} LIMIT 1",
            [*key, *params],
        ).fetchone()
        if row is None:
            return None
        bounds.append(from_db_time(row[0]))
    return bounds[0], bounds[1]


def period_digest(
    repertoire: Repertoire,
    web: PublicWeb,
    channel: ChannelRef,
    start: datetime,
    end: datetime,
    limit: int = 20,
) -> PeriodDigest | None:
    """The digest of ``[start, end)`` for a published channel; ``None`` if it is not one."""
    narrowed = channel_only(web, channel)
    if narrowed is None:
        return None
    knowhow = new_knowhow(repertoire, narrowed, start, end, limit)
    answered, answered_total = answered_questions(repertoire, narrowed, start, end, limit)
    visible, vparams = visibility_clause(narrowed, "e")
    visible_a, vparams_a = visibility_clause(narrowed, "a")
    open_where = (
        f"e.kind = 'question' AND {visible} AND e.created_at >= ? AND e.created_at < ? "
        "AND NOT EXISTS (SELECT 1 FROM entries a WHERE a.kind = 'answer' "
        "AND a.platform = e.platform AND a.workspace = e.workspace AND a.channel = e.channel "
        f"AND a.thread_id = e.message_id AND {visible_a})"
    )
    open_params = [*vparams, to_db_time(start), to_db_time(end), *vparams_a]
    still_open = repertoire.list_entries(open_where, open_params, "e.created_at", limit)
    found, _total = helpers(repertoire, narrowed, start, end, limit)
    return PeriodDigest(
        start=start,
        end=end,
        knowhow=knowhow.entries,
        knowhow_total=knowhow.total,
        answered=tuple(answered),
        answered_total=answered_total,
        still_open=tuple(still_open),
        still_open_total=repertoire.count(open_where, open_params),
        helpers=tuple(found),
        activity=period_activity(repertoire, narrowed, start, end),
    )
