"""The stored vectors of one model, held in memory as one matrix for brute-force ranking.

Loaded from ``entry_embeddings`` at the first ranking (through the portable
:class:`~knowledge.storage.Sql`, so either backend), then kept in step with
what this process writes and purges: a vector written by
:func:`~knowledge.semantic.stored.store_vectors` joins the matrix at once, one
purged leaves it. Held per repertoire object and dropped with it.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from knowledge.relational.repertoire import RelationalRepertoire

__all__ = ["VectorMatrix", "vectors_of"]


@dataclass
class VectorMatrix:
    """The vectors of one model, in memory: one row per entry id (no matrix until loaded)."""

    ids: list[int] = field(default_factory=list)
    rows: dict[int, int] = field(default_factory=dict)
    matrix: Any = None

    @property
    def loaded(self) -> bool:
        return self.matrix is not None

    def load(self, repertoire: RelationalRepertoire, model: str) -> VectorMatrix:
        """Read every vector of ``model`` (once: later calls return what is held)."""
        import numpy as np

        if self.matrix is not None:
            return self
        rows = repertoire.sql.rows(
            "SELECT entry_id, vector FROM entry_embeddings WHERE model = ? ORDER BY entry_id",
            [model],
        )
        self.ids = [int(r[0]) for r in rows]
        self.rows = {entry_id: i for i, entry_id in enumerate(self.ids)}
        if rows:
            flat = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype="float32")
            self.matrix = flat.reshape(len(rows), -1).copy()
        else:
            self.matrix = np.zeros((0, 0), dtype="float32")
        return self

    def remember(self, ids: list[int], vectors: list[Any]) -> None:
        """Vectors just written: replace an entry's row, or add one (nothing before loading)."""
        import numpy as np

        if self.matrix is None:
            return  # not loaded yet: the first ranking loads everything from the database
        fresh: list[int] = []
        for entry_id, vector in zip(ids, vectors, strict=True):
            if entry_id in self.rows:
                self.matrix[self.rows[entry_id]] = vector
            else:
                fresh.append(entry_id)
        if fresh:
            index = {entry_id: i for i, entry_id in enumerate(ids)}
            block = np.stack([vectors[index[i]] for i in fresh]).astype("float32")
            self.matrix = np.concatenate([self.matrix, block]) if len(self.ids) else block
            for entry_id in fresh:
                self.rows[entry_id] = len(self.ids)
                self.ids.append(entry_id)

    def drop(self, gone: list[int]) -> None:
        """Forget the rows of entries whose vectors were deleted."""
        if not gone or self.matrix is None:
            return
        remove = set(gone)
        keep = [i for i, entry_id in enumerate(self.ids) if entry_id not in remove]
        self.matrix = self.matrix[keep]
        self.ids = [self.ids[i] for i in keep]
        self.rows = {entry_id: i for i, entry_id in enumerate(self.ids)}


#: Vectors in memory per repertoire and model, dropped with the repertoire.
_HELD: weakref.WeakKeyDictionary[RelationalRepertoire, dict[str, VectorMatrix]] = (
    weakref.WeakKeyDictionary()
)


def vectors_of(repertoire: RelationalRepertoire, model: str) -> VectorMatrix:
    """The in-memory vectors of ``model`` for ``repertoire`` (not loaded until asked)."""
    return _HELD.setdefault(repertoire, {}).setdefault(model, VectorMatrix())
