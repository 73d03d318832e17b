"""A channel made private while the semantic stage looks is not shown to a viewer who lost it.

The semantic ranking checks visibility in one statement; the entries it found
and the words did not are read afterwards, in another. A second repertoire on
the same file (another process) turning the channel private in between must
win.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from knowledge.models import ChannelRef, EntryKind, NewEntry, SourceKey
from knowledge.sqlite.repertoire import Repertoire

np = pytest.importorskip("numpy")

HELP = ChannelRef("slack", "T", "C-help")


class SameMeaning:
    """Every text means the same: the semantic stage finds what no word of the question holds."""

    name = "test-same-meaning"

    def encode(self, texts: list[str]) -> Any:
        return np.ones((len(texts), 8), dtype="float32") / np.sqrt(8.0)


def test_an_entry_found_by_meaning_is_dropped_when_its_channel_turned_private_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import knowledge.semantic as semantic
    from knowledge.semantic import embed_missing
    from knowledge.similar import rank_similar

    rep = Repertoire.open(tmp_path / "r.db")
    other_process = Repertoire.open(tmp_path / "r.db")
    try:
        rep.upsert_channel(HELP.platform, HELP.workspace, HELP.channel, "help", "public")
        member = rep.upsert_member("slack", "T", "U1", "Ann")
        rep.save_entry(
            NewEntry(
                kind=EntryKind.KNOWHOW,
                source=SourceKey(HELP.platform, HELP.workspace, HELP.channel, "m1"),
                text="Shrink RAM footprint",
                author_id=member,
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
                visibility="public",
                title="Shrink RAM footprint",
            )
        )
        embedder = SameMeaning()
        embed_missing(rep, embedder)
        question = "reduce memory usage"
        assert rank_similar(rep, question, None) == []  # no word in common
        assert [r.entry.title for r in rank_similar(rep, question, None, embedder=embedder)] == [
            "Shrink RAM footprint"
        ]

        ranking = semantic.semantic_ranking
        found: list[object] = []

        def ranked_then_turned(*args: Any, **kwargs: Any) -> Any:
            result = ranking(*args, **kwargs)
            found.append(result)
            other_process.upsert_channel(
                HELP.platform, HELP.workspace, HELP.channel, "help", "private"
            )
            return result

        monkeypatch.setattr(semantic, "semantic_ranking", ranked_then_turned)
        ranked = rank_similar(rep, question, None, embedder=embedder)

        assert found and found[0], "the semantic ranking ran and found the entry"
        assert ranked == []
        # Its own channel still finds it.
        assert [r.entry.title for r in rank_similar(rep, question, HELP, embedder=embedder)] == [
            "Shrink RAM footprint"
        ]
    finally:
        other_process.close()
        rep.close()
