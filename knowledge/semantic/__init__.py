"""The optional semantic stage of similar questions: sentence embeddings, ranked by cosine.

Cut by concern: :mod:`~knowledge.semantic.encoders` (the models that turn
texts into vectors; :mod:`~knowledge.semantic.onnx_encoder` the fast int8 one,
made by :mod:`~knowledge.semantic.onnx_export`), :mod:`~knowledge.semantic.stored`
(which entries need a vector, writing and purging them in ``entry_embeddings``),
:mod:`~knowledge.semantic.memory` (the vectors held in memory as one matrix)
and :mod:`~knowledge.semantic.ranking` (nearest entries a viewer may see).
Everything runs on the portable SQL of the relational repertoire, so the
stage works on SQLite and PostgreSQL alike. numpy and a model are imported
only when used: without the extra, copbot works lexically.
"""

from knowledge.semantic.choice import load_embedder
from knowledge.semantic.encoders import (
    MINILM_TOKENS,
    Embedder,
    MiniLMEmbedder,
    QueryEncoder,
    SemanticUnavailable,
    StaticEmbedder,
)
from knowledge.semantic.ranking import RRF_K, cosines, fuse, query_vector, semantic_ranking
from knowledge.semantic.stored import (
    MAX_EMBED_CHARS,
    SCAN_SPAN,
    Pending,
    Scan,
    embed_missing,
    entry_text,
    pending,
    purge,
    store_vectors,
)

__all__ = [
    "MAX_EMBED_CHARS",
    "MINILM_TOKENS",
    "RRF_K",
    "SCAN_SPAN",
    "Embedder",
    "MiniLMEmbedder",
    "Pending",
    "QueryEncoder",
    "Scan",
    "SemanticUnavailable",
    "StaticEmbedder",
    "cosines",
    "embed_missing",
    "entry_text",
    "fuse",
    "load_embedder",
    "pending",
    "purge",
    "query_vector",
    "semantic_ranking",
    "store_vectors",
]
