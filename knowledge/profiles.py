"""Member profiles: what a member knows and has given, as one channel may see it.

A profile gathers every linked identity of the person (see
:mod:`knowledge.identity`): topics with counts of accepted answers and
know-how, totals, recent contributions, questions they asked that are still
open, and who thanked them. Only entries the viewer's channel may see count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from knowledge.identity import identity_group, linked_identities
from knowledge.models import ChannelRef, Entry, EntryKind, Member
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.storage import EntryFilter, as_viewer
from knowledge.text import title_from
from knowledge.thanks import Helper, thanks_received

__all__ = ["Contribution", "OpenQuestion", "Profile", "TopicCount", "member_profile"]


@dataclass(frozen=True, slots=True)
class TopicCount:
    tag: str
    accepted: int = 0
    answers: int = 0
    knowhow: int = 0

    @property
    def weight(self) -> int:
        return self.accepted * 3 + self.knowhow * 2 + (self.answers - self.accepted)


@dataclass(frozen=True, slots=True)
class Contribution:
    """An answer (with its question's title) or a know-how entry."""

    entry: Entry
    title: str


@dataclass(frozen=True, slots=True)
class OpenQuestion:
    entry: Entry
    answers: int


@dataclass(frozen=True, slots=True)
class Profile:
    member: Member
    identities: tuple[Member, ...]
    questions: int
    answers: int
    accepted: int
    knowhow_by_kind: dict[str, int]
    topics: tuple[TopicCount, ...]
    recent: tuple[Contribution, ...]
    open_questions: tuple[OpenQuestion, ...]
    thanks: Helper | None = None

    @property
    def knowhow(self) -> int:
        return sum(self.knowhow_by_kind.values())

    @property
    def is_empty(self) -> bool:
        return not (self.questions or self.answers or self.knowhow or self.thanks)


def member_profile(
    repertoire: RelationalRepertoire,
    member_id: int,
    viewer: ChannelRef | None,
    *,
    topics: int = 6,
    recent: int = 5,
    open_limit: int = 5,
) -> Profile | None:
    """The profile of ``member_id`` (and its linked identities), as ``viewer`` may see it."""
    member = repertoire.get_member(member_id)
    if member is None:
        return None
    ids = identity_group(repertoire, member_id)
    entries = repertoire.entries(as_viewer(viewer), EntryFilter(authors=tuple(ids)), limit=10_000)

    questions = [e for e in entries if e.kind == EntryKind.QUESTION]
    answers = [e for e in entries if e.kind == EntryKind.ANSWER]
    knowhow = [e for e in entries if e.kind == EntryKind.KNOWHOW]
    roots: dict[int, Entry | None] = {a.id: repertoire.thread_root(a) for a in answers}
    # An answer to one's own question says little about what one knows.
    answers = [a for a in answers if (r := roots[a.id]) is None or r.author_id not in ids]

    by_kind: dict[str, int] = defaultdict(int)
    for entry in knowhow:
        by_kind[entry.knowhow_kind or "howto"] += 1

    accepted_by_tag: dict[str, int] = defaultdict(int)
    answers_by_tag: dict[str, int] = defaultdict(int)
    knowhow_by_tag: dict[str, int] = defaultdict(int)
    for answer in answers:
        root = roots[answer.id]
        tags = set(answer.tags) | set(root.tags if root else ())
        for tag in tags:
            answers_by_tag[tag] += 1
            if answer.accepted:
                accepted_by_tag[tag] += 1
    for entry in knowhow:
        for tag in entry.tags:
            knowhow_by_tag[tag] += 1
    counts = [
        TopicCount(tag, accepted_by_tag[tag], answers_by_tag[tag], knowhow_by_tag[tag])
        for tag in set(answers_by_tag) | set(knowhow_by_tag)
    ]
    counts.sort(key=lambda t: (-t.weight, -t.accepted, -t.knowhow, t.tag))

    contributions: list[Contribution] = []
    for entry in sorted([*answers, *knowhow], key=lambda e: e.created_at, reverse=True)[:recent]:
        root = roots.get(entry.id) if entry.kind == EntryKind.ANSWER else None
        title = (root.title if root else "") or entry.title or title_from(entry.text, 80)
        contributions.append(Contribution(entry, title))

    open_questions: list[OpenQuestion] = []
    for question in questions:  # one answers query per question, not two
        replies = repertoire.visible_answers(question, viewer, borrowed=False)
        if not any(a.accepted for a in replies):
            open_questions.append(OpenQuestion(question, len(replies)))
            if len(open_questions) >= open_limit:
                break

    return Profile(
        member=member,
        identities=tuple(linked_identities(repertoire, member_id)),
        questions=len(questions),
        answers=len(answers),
        accepted=sum(1 for a in answers if a.accepted),
        knowhow_by_kind=dict(by_kind),
        topics=tuple(counts[:topics]),
        recent=tuple(contributions),
        open_questions=tuple(open_questions),
        thanks=thanks_received(repertoire, ids, viewer),
    )
