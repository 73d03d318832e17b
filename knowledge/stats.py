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
    visible, params = visibility_clause(viewer)

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
        members=repertoire.member_count(),
        channels=repertoire.channel_count(),
    )
