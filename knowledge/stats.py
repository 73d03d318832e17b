"""Counts of what the repertoire holds, as a viewer in one channel may see them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from knowledge.models import ChannelRef
from knowledge.store import Repertoire, visibility_clause


@dataclass(frozen=True, slots=True)
class Stats:
    questions: int
    answered: int
    accepted: int
    unanswered: int
    answers: int
    knowhow: int
    members: int
    channels: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def repertoire_stats(repertoire: Repertoire, viewer: ChannelRef | None) -> Stats:
    # Members and channels too: who posts only in a private channel or a DM, and how many
    # of those there are, is not for every channel to see.
    visible, params = visibility_clause(viewer)
    channels_visible, channel_params = visibility_clause(viewer, alias="c")

    def count(extra: str) -> int:
        return repertoire.count(f"{visible} AND {extra}", params)

    questions = count("e.kind = 'question'")
    answered = count("e.kind = 'question' AND e.answer_count > 0")
    return Stats(
        questions=questions,
        answered=answered,
        accepted=count("e.kind = 'question' AND e.has_accepted = 1"),
        unanswered=questions - answered,
        answers=count("e.kind = 'answer'"),
        knowhow=count("e.kind = 'knowhow'"),
        members=_scalar(
            repertoire, f"SELECT count(DISTINCT e.author_id) FROM entries e WHERE {visible}", params
        ),
        channels=_scalar(
            repertoire, f"SELECT count(*) FROM channels c WHERE {channels_visible}", channel_params
        ),
    )


def _scalar(repertoire: Repertoire, sql: str, params: list[Any]) -> int:
    row = repertoire.db.execute(sql, params).fetchone()
    return int(row[0]) if row else 0
