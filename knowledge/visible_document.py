"""A search document as one viewer may see it: what the public web re-checks a hit against.

A question's search document holds the text of the answers as visible as the
question itself, so a word said only in an answer the public web may not see
(by a member who opted out of it, or after the channel turned private) could
make the question come up there, and tell that the word is in there. Each
backend re-checks a public-web hit against this document, built from the
interface's own reads; portable, so both backends build the same one.
"""

from __future__ import annotations

from typing import Protocol

from knowledge.models import Audience, Entry, EntryKind
from knowledge.relational.visibility import visible_to

__all__ = ["AnswerSource", "visible_document"]


class AnswerSource(Protocol):
    """The reads a visible document is built from (part of the storage interface)."""

    def answers_for(self, question: Entry) -> list[Entry]: ...

    def linked_answers(self, question_id: int) -> list[Entry]: ...


def visible_document(source: AnswerSource, entry: Entry, viewer: Audience) -> tuple[str, ...]:
    """``(title, body, answers, tags)`` as the index builds them, but only with the
    answers ``viewer`` may see."""
    body = entry.text
    if entry.title and body.startswith(entry.title):
        body = body[len(entry.title) :]
    answers: list[Entry] = []
    if entry.kind == EntryKind.QUESTION:
        answers = [a for a in source.answers_for(entry) if visible_to(a, viewer)]
        answers += [a for a in source.linked_answers(entry.id) if visible_to(a, viewer)]
    return (entry.title, body, "\n".join(a.text for a in answers), " ".join(entry.tags))
