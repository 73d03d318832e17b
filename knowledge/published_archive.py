"""The digest archive of a published channel, rendered from its entries for any period.

Posted digests are not stored, and the archive does not store them: a digest
posted in a public channel holds public entries from every channel (also ones
not published on the web), and a stored text would keep the words of a
message deleted later, of a member forgotten or opted out, or of a channel
that turned private. So each archive page is the digest of one period computed
now, with the public web narrowed to that one channel (:meth:`Viewer.only_channel`): what the
channel learned in that period, as far as the web may see it today. It holds
the digest's sections (new know-how, questions answered with the accepted
answer, questions still open, who helped, activity).

Cost: one walk of the period on the channel's date index (a week of one channel
is a few hundred entries however long its history), then a few look-ups by
thread. The chat digest's queries (:mod:`knowledge.activity`) are
built for one period across all of a channel's viewer rules and let SQLite,
which has no statistics here, walk a whole channel; the web serves many
periods, so it reads them this way (SQLite told which index to walk through
:meth:`~RelationalRepertoire.index_hint`; PostgreSQL plans from its statistics).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Any

from knowledge.activity import AnsweredQuestion, Helper, PeriodActivity
from knowledge.models import ChannelRef, Entry, EntryKind, Viewer, from_db_time, to_db_time
from knowledge.published import entries_where
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.relational.visibility import visibility_clause

__all__ = ["PeriodDigest", "channel_only", "channel_span", "period_digest"]

#: The index of one channel's entries by date (knowledge/sqlite/schema_web.py).
_BY_DATE = "entries_channel_created"
_IN_CHANNEL = "e.platform = ? AND e.workspace = ? AND e.channel = ?"


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


def channel_only(web: Viewer, channel: ChannelRef) -> Viewer | None:
    """The web viewer narrowed to one channel; ``None`` when that channel is not published."""
    return web.only_channel(channel)


def channel_span(
    repertoire: RelationalRepertoire, web: Viewer, channel: ChannelRef
) -> tuple[datetime, datetime] | None:
    """When the channel's first and latest published entries were made (``None``: none)."""
    narrowed = channel_only(web, channel)
    if narrowed is None:
        return None
    visible, params = visibility_clause(narrowed, "e")
    key = [channel.platform, channel.workspace, channel.channel]
    bounds = []
    for order in ("ASC", "DESC"):  # the channel's date index, from one end to the first match
        row = repertoire.sql.one(
            f"SELECT e.created_at FROM entries e {repertoire.index_hint(_BY_DATE)} "
            f"WHERE {_IN_CHANNEL} AND {visible} ORDER BY e.created_at {order} LIMIT 1",
            [*key, *params],
        )
        if row is None:
            return None
        bounds.append(from_db_time(row[0]))
    return bounds[0], bounds[1]


def period_digest(
    repertoire: RelationalRepertoire,
    web: Viewer,
    channel: ChannelRef,
    start: datetime,
    end: datetime,
    limit: int = 20,
) -> PeriodDigest | None:
    """The digest of ``[start, end)`` for a published channel; ``None`` if it is not one."""
    narrowed = channel_only(web, channel)
    if narrowed is None:
        return None
    visible, params = visibility_clause(narrowed, "e")
    period = entries_where(
        repertoire,
        f"{_IN_CHANNEL} AND e.created_at >= ? AND e.created_at < ? AND {visible}",
        [
            channel.platform,
            channel.workspace,
            channel.channel,
            to_db_time(start),
            to_db_time(end),
            *params,
        ],
        "e.created_at, e.id",
        1_000_000,
        index=_BY_DATE,
    )
    knowhow = [e for e in period if e.kind == EntryKind.KNOWHOW][::-1]
    asked = [e for e in period if e.kind == EntryKind.QUESTION]
    answers = [e for e in period if e.kind == EntryKind.ANSWER]
    questions = _questions_of(repertoire, narrowed, channel, answers, asked)
    first_answers = _first_answers(repertoire, narrowed, channel, asked)

    threads = dict.fromkeys(a.thread_id or "" for a in answers)
    answered_questions = [questions[t] for t in threads if t in questions]
    accepted = _with_accepted_answer(repertoire, narrowed, channel, answered_questions)
    # Accepted first, then newest first: the order of the chat digest's "answered" section.
    answered_questions.sort(
        key=lambda q: (q.source.message_id not in accepted, -q.created_at.timestamp())
    )
    shown: list[AnsweredQuestion] = []
    for question in answered_questions[:limit]:
        thread = repertoire.visible_answers(question, narrowed, borrowed=False)
        chosen = [a for a in thread if a.accepted] or [
            a for a in thread if start <= a.created_at < end
        ]
        if chosen:
            shown.append(
                AnsweredQuestion(question, chosen[0] if chosen[0].accepted else chosen[-1])
            )
    still_open = [q for q in asked if q.source.message_id not in first_answers]

    waits = [
        (first_answers[q.source.message_id] - q.created_at).total_seconds()
        for q in asked
        if q.source.message_id in first_answers
    ]
    activity = PeriodActivity(
        asked=len(asked),
        answered=len(waits),
        median_first_answer_seconds=max(0.0, median(waits)) if waits else None,
        answers=len(answers),
        knowhow=len(knowhow),
    )
    return PeriodDigest(
        start=start,
        end=end,
        knowhow=tuple(knowhow[:limit]),
        knowhow_total=len(knowhow),
        answered=tuple(shown),
        answered_total=len(answered_questions),
        still_open=tuple(still_open[:limit]),
        still_open_total=len(still_open),
        helpers=tuple(_helpers(repertoire, answers, knowhow, questions, limit)),
        activity=activity,
    )


def _questions_of(
    repertoire: RelationalRepertoire,
    web: Viewer,
    channel: ChannelRef,
    answers: list[Entry],
    asked: list[Entry],
) -> dict[str, Entry]:
    """The published questions the period's answers belong to, by message id."""
    known = {q.source.message_id: q for q in asked}
    missing = sorted({a.thread_id for a in answers if a.thread_id and a.thread_id not in known})
    for chunk in _chunks(missing):
        visible, params = visibility_clause(web, "e")
        marks = ", ".join("?" for _ in chunk)
        for question in entries_where(
            repertoire,
            f"e.kind = 'question' AND e.platform = ? AND e.workspace = ? AND e.channel = ? "
            f"AND e.message_id IN ({marks}) AND {visible}",
            [channel.platform, channel.workspace, channel.channel, *chunk, *params],
            "e.id",
            len(chunk),
        ):
            known[question.source.message_id] = question
    return known


def _first_answers(
    repertoire: RelationalRepertoire, web: Viewer, channel: ChannelRef, asked: list[Entry]
) -> dict[str, datetime]:
    """For questions asked in the period: when their first published answer came (any time)."""
    out: dict[str, datetime] = {}
    visible, params = visibility_clause(web, "a")
    for chunk in _chunks([q.source.message_id for q in asked]):
        marks = ", ".join("?" for _ in chunk)
        rows = repertoire.sql.rows(
            "SELECT a.thread_id, min(a.created_at) FROM entries a "
            f"{repertoire.index_hint('entries_thread')} "
            "WHERE a.platform = ? AND a.workspace = ? AND a.channel = ? "
            f"AND a.thread_id IN ({marks}) AND a.kind = 'answer' AND {visible} "
            "GROUP BY a.thread_id",
            [channel.platform, channel.workspace, channel.channel, *chunk, *params],
        )
        out.update({str(t): from_db_time(at) for t, at in rows})
    return out


def _with_accepted_answer(
    repertoire: RelationalRepertoire, web: Viewer, channel: ChannelRef, questions: list[Entry]
) -> set[str]:
    """Which of ``questions`` (by message id) have a published accepted answer."""
    found: set[str] = set()
    visible, params = visibility_clause(web, "a")
    for chunk in _chunks([q.source.message_id for q in questions]):
        marks = ", ".join("?" for _ in chunk)
        rows = repertoire.sql.rows(
            "SELECT DISTINCT a.thread_id FROM entries a "
            f"{repertoire.index_hint('entries_thread')} "
            "WHERE a.platform = ? AND a.workspace = ? AND a.channel = ? "
            f"AND a.thread_id IN ({marks}) AND a.kind = 'answer' AND a.accepted = TRUE "
            f"AND {visible}",
            [channel.platform, channel.workspace, channel.channel, *chunk, *params],
        )
        found.update(str(r[0]) for r in rows)
    return found


def _helpers(
    repertoire: RelationalRepertoire,
    answers: list[Entry],
    knowhow: list[Entry],
    questions: dict[str, Entry],
    limit: int,
) -> list[Helper]:
    """Who answered others (on a question the web shows) or shared know-how, most first."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])  # accepted, answers, knowhow
    for answer in answers:
        question = questions.get(answer.thread_id or "")
        if question is None or question.author_id == answer.author_id:
            continue
        counts[answer.author_id][1] += 1
        counts[answer.author_id][0] += int(answer.accepted)
    for entry in knowhow:
        counts[entry.author_id][2] += 1
    weight = {m: 3 * c[0] + 2 * c[2] + (c[1] - c[0]) for m, c in counts.items()}
    # Names are read for the first ones only; ties on the cut are kept, then ordered by name.
    ranked = sorted(counts, key=lambda m: -weight[m])
    cut = weight[ranked[limit - 1]] if len(ranked) >= limit else None
    chosen = [m for m in ranked if cut is None or weight[m] >= cut]
    found: list[Helper] = []
    for member_id in chosen:
        member = repertoire.get_member(member_id)
        if member is not None:
            accepted, given, shared = counts[member_id]
            found.append(Helper(member, accepted, given, shared))
    found.sort(key=lambda h: (-h.weight, h.member.display_name.casefold()))
    return found[:limit]


def _chunks(values: list[Any], size: int = 500) -> list[list[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
