"""Does a hit still match when only what the viewer may see of it is searched?

A question's search document holds the text of the answers as visible as the
question itself, so a word said only in an answer the public web may not see
(by a member who opted out of it) could make the question come up there, and
tell that the word is in there. For the public web,
:func:`knowledge.search.search` re-checks each hit against the document of what
that viewer may see, with the same FTS5 expression and tokenizer, in a private
in-memory index of just those few documents.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from knowledge.models import Audience, Entry, EntryKind
from knowledge.relational.visibility import visible_to
from knowledge.sqlite.migrations import FTS_TOKENIZER
from knowledge.sqlite.repertoire import Repertoire

__all__ = ["still_matching", "visible_document"]


def visible_document(repertoire: Repertoire, entry: Entry, viewer: Audience) -> tuple[str, ...]:
    """``(title, body, answers, tags)`` as :meth:`Repertoire.reindex` builds them, but only
    with the answers ``viewer`` may see."""
    body = entry.text
    if entry.title and body.startswith(entry.title):
        body = body[len(entry.title) :]
    answers: list[Entry] = []
    if entry.kind == EntryKind.QUESTION:
        answers = [a for a in repertoire.answers_for(entry) if visible_to(a, viewer)]
        answers += [a for a in repertoire.linked_answers(entry.id) if visible_to(a, viewer)]
    return (entry.title, body, "\n".join(a.text for a in answers), " ".join(entry.tags))


def still_matching(
    repertoire: Repertoire, entries: Sequence[Entry], expression: str, viewer: Audience
) -> set[int]:
    """The ids of ``entries`` whose visible document matches the FTS5 ``expression``."""
    if not entries:
        return set()
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(
            f"CREATE VIRTUAL TABLE docs USING fts5(title, body, answers, tags, "
            f"tokenize = '{FTS_TOKENIZER}')"
        )
        conn.executemany(
            "INSERT INTO docs (rowid, title, body, answers, tags) VALUES (?, ?, ?, ?, ?)",
            [(e.id, *visible_document(repertoire, e, viewer)) for e in entries],
        )
        rows = conn.execute("SELECT rowid FROM docs WHERE docs MATCH ?", [expression]).fetchall()
        return {int(r[0]) for r in rows}
    finally:
        conn.close()
