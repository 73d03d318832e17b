"""What happened in the repertoire during a period, as one channel may see it.

Digests ask these questions; every function takes the ``viewer`` channel and
applies the visibility rule (public entries plus the viewer's own channel),
so a digest posted to channel C can hold nothing else. Periods are half-open
``[start, end)`` in UTC; answers count in the period they were given.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from statistics import median
from typing import Any

from knowledge.models import ChannelRef, Entry, EntryKind, Member, from_db_time, to_db_time
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.relational.visibility import visibility_clause
from knowledge.storage import EntryFilter, as_viewer

__all__ = [
    "AnsweredQuestion",
    "Helper",
    "Listing",
    "PeriodActivity",
    "answered_questions",
    "daily_counts",
    "helpers",
    "new_knowhow",
    "period_activity",
    "unanswered_questions",
]

#: Joins an answer ``a`` to its question ``q`` (same channel, thread = question's message).
_ANSWER_OF = (
    "a.kind = 'answer' AND a.platform = q.platform AND a.workspace = q.workspace "
    "AND a.channel = q.channel AND a.thread_id = q.message_id"
)


@dataclass(frozen=True, slots=True)
class Listing:
    """The first entries of a list and how many there are in all."""

    entries: tuple[Entry, ...]
    total: int


@dataclass(frozen=True, slots=True)
class AnsweredQuestion:
    """A question answered in the period, with the answer to show (accepted if any)."""

    question: Entry
    answer: Entry


@dataclass(frozen=True, slots=True)
class Helper:
    """A member who helped in the period, with what they gave."""

    member: Member
    accepted_answers: int
    answers: int
    knowhow: int

    @property
    def weight(self) -> int:
        return 3 * self.accepted_answers + 2 * self.knowhow + (self.answers - self.accepted_answers)


@dataclass(frozen=True, slots=True)
class PeriodActivity:
    """Questions asked in a period, how many got an answer, and how fast."""

    asked: int
    answered: int
    median_first_answer_seconds: float | None
    answers: int
    knowhow: int

    @property
    def is_empty(self) -> bool:
        return not (self.asked or self.answers or self.knowhow)


def _between(
    repertoire: RelationalRepertoire,
    alias: str,
    start: datetime,
    end: datetime,
    *,
    in_thread: bool = False,
) -> tuple[str, list[Any]]:
    """``[start, end)`` on ``alias.created_at``. ``in_thread``: the row is found by its
    thread, so the date must not steer SQLite to a by-date index (unary ``+``)."""
    column = f"{alias}.created_at"
    if in_thread:  # the thread's index finds the rows; the time only filters them
        column = repertoire.unindexed(column)
    return f"{column} >= ? AND {column} < ?", [to_db_time(start), to_db_time(end)]


def new_knowhow(
    repertoire: RelationalRepertoire,
    viewer: ChannelRef | None,
    start: datetime,
    end: datetime,
    limit: int,
) -> Listing:
    """Know-how shared in the period, newest first."""
    seen = as_viewer(viewer)
    wanted = EntryFilter(kinds=(EntryKind.KNOWHOW,), created_from=start, created_before=end)
    return Listing(
        tuple(repertoire.entries(seen, wanted, order="newest", limit=limit)),
        repertoire.count_entries(seen, wanted),
    )


def answered_questions(
    repertoire: RelationalRepertoire,
    viewer: ChannelRef | None,
    start: datetime,
    end: datetime,
    limit: int,
) -> tuple[list[AnsweredQuestion], int]:
    """Questions that got an answer in the period: accepted first, then most recent.

    Each comes with its accepted answer, or else the latest answer of the period.
    """
    visible, vparams = visibility_clause(viewer, "q")
    answer_visible, aparams = visibility_clause(viewer, "a")
    period, pparams = _between(repertoire, "a", start, end, in_thread=True)
    condition = (
        f"q.kind = 'question' AND {visible} AND EXISTS (SELECT 1 FROM entries a "
        f"WHERE {_ANSWER_OF} AND {answer_visible} AND {period})"
    )
    params = [*vparams, *aparams, *pparams]
    rows = repertoire.sql.rows(
        f"SELECT q.id FROM entries q WHERE {condition} "
        "ORDER BY q.has_accepted DESC, q.created_at DESC LIMIT ?",
        [*params, limit],
    )
    counted = repertoire.sql.one(f"SELECT count(*) FROM entries q WHERE {condition}", params)
    total = int(counted[0]) if counted else 0
    out: list[AnsweredQuestion] = []
    for (question_id,) in rows:
        question = repertoire.get_entry(int(question_id))
        if question is None:
            continue
        answers = repertoire.visible_answers(question, viewer, borrowed=False)
        accepted = [a for a in answers if a.accepted]
        in_period = [a for a in answers if start <= a.created_at < end]
        chosen = accepted[0] if accepted else (in_period[-1] if in_period else None)
        if chosen is not None:
            out.append(AnsweredQuestion(question, chosen))
    return out, total


def unanswered_questions(
    repertoire: RelationalRepertoire, viewer: ChannelRef | None, end: datetime, limit: int
) -> Listing:
    """Questions asked before ``end`` that have no answer at all: oldest first."""
    seen = as_viewer(viewer)
    wanted = EntryFilter(kinds=(EntryKind.QUESTION,), answered=False, created_before=end)
    return Listing(
        tuple(repertoire.entries(seen, wanted, order="oldest", limit=limit)),
        repertoire.count_entries(seen, wanted),
    )


def helpers(
    repertoire: RelationalRepertoire,
    viewer: ChannelRef | None,
    start: datetime,
    end: datetime,
    limit: int,
) -> tuple[list[Helper], int]:
    """Members who answered others or shared know-how in the period, most helpful first.

    An accepted answer counts most, then know-how, then any other answer;
    answering one's own question does not count.
    """
    visible_a, vparams_a = visibility_clause(viewer, "a")
    visible_q, vparams_q = visibility_clause(viewer, "q")
    visible_k, vparams_k = visibility_clause(viewer, "k")
    period_a, pparams_a = _between(repertoire, "a", start, end)
    period_k, pparams_k = _between(repertoire, "k", start, end)
    # An answer counts where its question may be seen too (where it is shown).
    rows = repertoire.sql.rows(
        f"""
        SELECT a.author_id, 'answer', a.accepted FROM entries a
        JOIN entries q ON q.kind = 'question' AND {_ANSWER_OF} AND {visible_q}
        WHERE {visible_a} AND {period_a} AND a.author_id != q.author_id
        UNION ALL
        SELECT k.author_id, 'knowhow', FALSE FROM entries k
        WHERE k.kind = 'knowhow' AND {visible_k} AND {period_k}
        """,
        [*vparams_q, *vparams_a, *pparams_a, *vparams_k, *pparams_k],
    )
    accepted: dict[int, int] = defaultdict(int)
    answers: dict[int, int] = defaultdict(int)
    knowhow: dict[int, int] = defaultdict(int)
    for author_id, kind, is_accepted in rows:
        if kind == "knowhow":
            knowhow[int(author_id)] += 1
        else:
            answers[int(author_id)] += 1
            accepted[int(author_id)] += int(bool(is_accepted))
    found: list[Helper] = []
    for author_id in set(answers) | set(knowhow):
        member = repertoire.get_member(author_id)
        if member is not None:
            found.append(
                Helper(member, accepted[author_id], answers[author_id], knowhow[author_id])
            )
    found.sort(key=lambda h: (-h.weight, h.member.display_name.casefold()))
    return found[:limit], len(found)


def period_activity(
    repertoire: RelationalRepertoire, viewer: ChannelRef | None, start: datetime, end: datetime
) -> PeriodActivity:
    """Counts for one period; the time to first answer is over questions asked in it."""
    visible, vparams = visibility_clause(viewer, "q")
    answer_visible, aparams = visibility_clause(viewer, "a")
    period, pparams = _between(repertoire, "q", start, end)
    first_answer = repertoire.unindexed("a.created_at")
    rows = repertoire.sql.rows(
        f"SELECT q.created_at, (SELECT min({first_answer}) FROM entries a "
        f"WHERE {_ANSWER_OF} AND {answer_visible}) "
        f"FROM entries q WHERE q.kind = 'question' AND {visible} AND {period}",
        [*aparams, *vparams, *pparams],
    )
    waits = [
        (from_db_time(first) - from_db_time(asked)).total_seconds()
        for asked, first in rows
        if first is not None
    ]
    seen = as_viewer(viewer)
    answers, knowhow = (
        repertoire.count_entries(
            seen, EntryFilter(kinds=(kind,), created_from=start, created_before=end)
        )
        for kind in (EntryKind.ANSWER, EntryKind.KNOWHOW)
    )
    return PeriodActivity(
        asked=len(rows),
        answered=len(waits),
        median_first_answer_seconds=max(0.0, median(waits)) if waits else None,
        answers=answers,
        knowhow=knowhow,
    )


def daily_counts(
    repertoire: RelationalRepertoire,
    viewer: ChannelRef | None,
    start: datetime,
    end: datetime,
    tz: tzinfo,
) -> list[tuple[date, int, int]]:
    """``(day, questions asked, answers given)`` for every local day of the period."""
    visible, vparams = visibility_clause(viewer)
    period, pparams = _between(repertoire, "e", start, end)
    rows = repertoire.sql.rows(
        f"SELECT e.kind, e.created_at FROM entries e WHERE e.kind IN ('question', 'answer') "
        f"AND {visible} AND {period}",
        [*vparams, *pparams],
    )
    first = start.astimezone(tz).date()
    last = (end.astimezone(tz)).date()
    days: dict[date, list[int]] = {}
    day = first
    while day <= last:
        days[day] = [0, 0]
        day = date.fromordinal(day.toordinal() + 1)
    for kind, created_at in rows:
        local = from_db_time(created_at).astimezone(tz).date()
        if local in days:
            days[local][0 if kind == "question" else 1] += 1
    if end.astimezone(tz).time() == datetime.min.time() and last in days and days[last] == [0, 0]:
        del days[last]  # a period ending at midnight does not reach into that day
    return [(d, counts[0], counts[1]) for d, counts in days.items()]
