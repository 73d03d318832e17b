"""Counts of what the repertoire holds, as a viewer in one channel may see them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from knowledge.models import ChannelRef, EntryKind
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.relational.visibility import visibility_clause
from knowledge.storage import EntryFilter, as_viewer

__all__ = ["Stats", "repertoire_stats"]


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


def repertoire_stats(repertoire: RelationalRepertoire, viewer: ChannelRef | None) -> Stats:
    # Members and channels too: who posts only in a private channel or a DM, and how many
    # of those there are, is not for every channel to see.
    visible, params = visibility_clause(viewer)
    channels_visible, channel_params = visibility_clause(viewer, alias="c")
    seen = as_viewer(viewer)

    def count(
        kind: EntryKind, *, answered: bool | None = None, accepted: bool | None = None
    ) -> int:
        wanted = EntryFilter(kinds=(kind,), answered=answered, has_accepted=accepted)
        return repertoire.count_entries(seen, wanted)

    questions = count(EntryKind.QUESTION)
    answered = count(EntryKind.QUESTION, answered=True)
    return Stats(
        questions=questions,
        answered=answered,
        accepted=count(EntryKind.QUESTION, accepted=True),
        unanswered=questions - answered,
        answers=count(EntryKind.ANSWER),
        knowhow=count(EntryKind.KNOWHOW),
        members=_scalar(
            repertoire, f"SELECT count(DISTINCT e.author_id) FROM entries e WHERE {visible}", params
        ),
        channels=_scalar(
            repertoire, f"SELECT count(*) FROM channels c WHERE {channels_visible}", channel_params
        ),
    )


def _scalar(repertoire: RelationalRepertoire, sql: str, params: list[Any]) -> int:
    row = repertoire.sql.one(sql, params)
    return int(row[0]) if row else 0
