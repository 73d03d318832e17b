"""Does a hit still match when only what the viewer may see of it is searched?

For the public web, keyword search re-checks each hit against the document of
what that viewer may see (:func:`knowledge.visible_document.visible_document`),
with the same FTS5 expression and tokenizer, in a private in-memory index of
just those few documents.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from knowledge.models import Audience, Entry
from knowledge.sqlite.migrations import FTS_TOKENIZER
from knowledge.visible_document import AnswerSource, visible_document

__all__ = ["AnswerSource", "still_matching"]


def still_matching(
    source: AnswerSource, entries: Sequence[Entry], expression: str, viewer: Audience
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
            [(e.id, *visible_document(source, e, viewer)) for e in entries],
        )
        rows = conn.execute("SELECT rowid FROM docs WHERE docs MATCH ?", [expression]).fetchall()
        return {int(r[0]) for r in rows}
    finally:
        conn.close()
