"""A small deterministic embedder for the semantic stage's tests (numpy only, no model).

Each word is hashed into 256 dimensions and the row L2-normalised, as a real
model's vectors are: texts that share words are near, others are orthogonal.
The model itself is beyond what these tests check (storage, the background
job, visibility); ``tests/test_semantic.py`` runs the real one when installed.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["HashedWords"]


class HashedWords:
    """A deterministic embedder that records every batch it was given."""

    name = "test-hashed-words"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str]) -> Any:
        import numpy as np

        self.calls.append(list(texts))
        out = np.zeros((len(texts), 256), dtype="float32")
        for row, text in enumerate(texts):
            for word in text.lower().split():
                word = word.strip("?.,!:;")
                digest = hashlib.sha256(word.encode()).digest()
                out[row, int.from_bytes(digest[:2], "big") % 256] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)
