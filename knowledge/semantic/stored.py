"""Stored vectors: which entries need one, writing a batch, dropping what is left behind.

Each question or know-how entry gets one vector per model in
``entry_embeddings`` (float32 bytes, L2-normalised, so a dot product is the
cosine; a BLOB on SQLite, ``bytea`` on PostgreSQL). Only the entry's own
title, the start of its text and its tags are embedded, not its answers: that
is what a new question resembles. Vectors are written in the background
(:func:`pending`, then the model, then :func:`store_vectors`; the bot's job in
``bot/semantic_job.py``) and go with their entry: each backend's schema has
triggers that delete an entry's vectors when it is deleted or its text edited,
so no path that deletes or edits can leave a vector of old text behind.

Every statement is portable SQL on :attr:`RelationalRepertoire.sql`, so the
stage runs the same on either backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.semantic.encoders import Embedder
from knowledge.semantic.memory import vectors_of

__all__ = [
    "MAX_EMBED_CHARS",
    "SCAN_SPAN",
    "Pending",
    "Scan",
    "embed_missing",
    "entry_text",
    "pending",
    "purge",
    "store_vectors",
]

#: Characters of an entry embedded: the title and the start of the question's body
#: say what it is about (a model reads ~256 tokens at most, and time grows with length).
MAX_EMBED_CHARS = 1000

#: Entry ids one :func:`pending` statement looks at: bounds its time in a big
#: repertoire (the database thread is shared with capture).
SCAN_SPAN = 20_000


def entry_text(title: str, text: str, tags: Iterable[str], limit: int = MAX_EMBED_CHARS) -> str:
    """What an entry is embedded as: title, then body, cut at ``limit``; then its tags."""
    body = text if text.startswith(title) else f"{title}\n{text}"
    tag_text = " ".join(tags)
    body = body[:limit]
    return f"{body}\n{tag_text}" if tag_text else body


@dataclass(frozen=True, slots=True)
class Pending:
    """An entry that needs a (new) vector: its id, the text to embed, and its version."""

    entry_id: int
    text: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class Scan:
    """One step of a sweep over entry ids: what needs a vector, and where to go on."""

    items: list[Pending]
    cursor: int  # every entry up to this id was looked at
    at_end: bool  # the cursor reached the newest entry


def _tags_of(repertoire: RelationalRepertoire, ids: Sequence[int]) -> dict[int, list[str]]:
    """Each entry's tags in code-point order (as SQLite's ``(entry_id, tag)`` key lists them)."""
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    tags: dict[int, list[str]] = {}
    for entry_id, tag in repertoire.sql.rows(
        f"SELECT entry_id, tag FROM entry_tags WHERE entry_id IN ({marks})", list(ids)
    ):
        tags.setdefault(int(entry_id), []).append(str(tag))
    return {entry_id: sorted(found) for entry_id, found in tags.items()}


def pending(
    repertoire: RelationalRepertoire,
    model: str,
    after: int = 0,
    limit: int = 256,
    span: int = SCAN_SPAN,
) -> Scan:
    """Questions and know-how after id ``after`` with no vector for ``model`` (or an old one).

    Looks at no more than ``span`` ids per call, so a sweep over a million
    entries is many short statements rather than one long one.
    """
    newest_row = repertoire.sql.one("SELECT coalesce(max(id), 0) FROM entries")
    newest = int(newest_row[0]) if newest_row else 0
    upto = min(after + span, newest)
    rows = repertoire.sql.rows(
        "SELECT e.id, e.title, e.text, e.updated_at FROM entries e "
        "WHERE e.id > ? AND e.id <= ? AND e.kind IN ('question', 'knowhow') "
        "AND NOT EXISTS (SELECT 1 FROM entry_embeddings v WHERE v.entry_id = e.id "
        "AND v.model = ? AND v.updated_at = e.updated_at) ORDER BY e.id LIMIT ?",
        [after, upto, model, limit],
    )
    tags = _tags_of(repertoire, [int(r[0]) for r in rows])
    items = [
        Pending(int(r[0]), entry_text(r[1], r[2], tags.get(int(r[0]), ())), str(r[3])) for r in rows
    ]
    cursor = items[-1].entry_id if len(items) >= limit else upto
    return Scan(items, cursor, cursor >= newest)


def store_vectors(
    repertoire: RelationalRepertoire, model: str, batch: Sequence[Pending], vectors: Any
) -> int:
    """Write a batch's vectors; an entry deleted or edited since it was read is skipped.

    The entry's id and version are taken from its row, so a vector is written
    only while the entry still says what was embedded.
    """
    kept_ids: list[int] = []
    kept_vectors: list[Any] = []
    for item, vector in zip(batch, vectors, strict=True):
        changed = repertoire.sql.execute(
            "INSERT INTO entry_embeddings (entry_id, model, dim, vector, updated_at) "
            "SELECT e.id, ?, ?, ?, e.updated_at FROM entries e "
            "WHERE e.id = ? AND e.updated_at = ? "
            "ON CONFLICT (entry_id, model) DO UPDATE SET dim = excluded.dim, "
            "vector = excluded.vector, updated_at = excluded.updated_at",
            [
                model,
                int(vector.shape[0]),
                vector.astype("float32").tobytes(),
                item.entry_id,
                item.updated_at,
            ],
        )
        if changed:
            kept_ids.append(item.entry_id)
            kept_vectors.append(vector)
    vectors_of(repertoire, model).remember(kept_ids, kept_vectors)
    return len(kept_ids)


def purge(repertoire: RelationalRepertoire, model: str) -> int:
    """Drop vectors whose entry is gone (written before the triggers), here and in memory."""
    removed = repertoire.sql.execute(
        "DELETE FROM entry_embeddings WHERE model = ? AND entry_id NOT IN "
        "(SELECT id FROM entries WHERE kind IN ('question', 'knowhow'))",
        [model],
    )
    held = vectors_of(repertoire, model)
    if held.loaded and held.ids:
        alive = {
            int(r[0])
            for r in repertoire.sql.rows(
                "SELECT entry_id FROM entry_embeddings WHERE model = ?", [model]
            )
        }
        held.drop([i for i in held.ids if i not in alive])
    return removed


def embed_missing(repertoire: RelationalRepertoire, embedder: Embedder, batch: int = 256) -> int:
    """Embed, here and now, every entry :func:`pending` finds (benchmarks, tests, imports).

    The bot does the same in the background (``bot/semantic_job.py``), off the
    database thread, so capture and commands never wait for a model.
    """
    done, cursor = 0, 0
    while True:
        scan = pending(repertoire, embedder.name, cursor, batch)
        if scan.items:
            vectors = embedder.encode([item.text for item in scan.items])
            done += store_vectors(repertoire, embedder.name, scan.items, vectors)
        cursor = scan.cursor
        if scan.at_end:
            break
    return done
