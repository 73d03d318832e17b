"""The search index a set-wise import leaves: live capture writes its own small index segments, not
the imported ones, and the common words' frequencies are already counted.

The set-wise load writes every search document in one statement with a large
in-memory segment, so the index lands in a few big segments. Left on FTS5's
lowest level (where each live commit adds a small segment), they were merged
again, whole, by the first "crisis merge" (16 segments on a level) a few
thousand live messages later: the whole index rewritten in one commit (at a
million messages, 1 s of CPU and 125 MB of log). The load now merges them into
one segment on a higher level, so the live commits that follow merge only
among themselves. The test imports with a small in-memory segment (several
segments flushed, as a big import does) and with the load's own (one), and
counts the index bytes the first live messages write.

The similar-question finder needs each word's document frequency; counting a
word in most documents walks its whole posting list (milliseconds at a million
messages), so the import counts the common ones into the cache in one pass.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import knowledge.sqlite.setwise_parts as setwise_parts
from bot.app import build_core
from bot.config import Settings
from bot.core import Core
from bot.events import Actor, IncomingMessage, Visibility, Where
from bot.import_replay import run_import
from knowledge.similar import find_similar
from knowledge.sqlite.setwise_sql import LOAD_HASHSIZE
from knowledge.sqlite.vocabulary import FREQUENT_DF
from tests.sqlite_file import sqlite_of

HELP = Where("slack", "T1", "C1", Visibility.PUBLIC, "help")
T0 = datetime(2024, 5, 1, tzinfo=UTC)
#: FTS5 merges a level at once when it holds this many segments ("crisismerge", its default).
CRISIS_MERGE = 16


def _question(rng: random.Random, message_id: str, at: datetime) -> IncomingMessage:
    words = " ".join(f"w{rng.randrange(3000)}x" for _ in range(12))
    author = Actor("slack", f"U{rng.randrange(20)}", "member", "T1")
    return IncomingMessage(HELP, author, message_id, f"how do I {words}?", at)


@pytest.fixture(params=[20_000, LOAD_HASHSIZE], ids=["segments", "one-segment"])
def imported(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Core]:
    # A small in-memory segment flushes the 1,500 documents as several segments (a big
    # import); the load's own holds them all at once.
    # The load in parts (the one write at the end is the same writer).
    monkeypatch.setattr(setwise_parts, "LOAD_HASHSIZE", request.param)
    core = build_core(Settings(), tmp_path / "imported.db")
    rng = random.Random(7)
    run_import(core, [_question(rng, f"{i}.0", T0 + timedelta(seconds=i)) for i in range(1500)])
    yield core
    core.services.repertoire.close()


def test_live_commits_after_an_import_do_not_rewrite_the_imported_index(imported: Core) -> None:
    db = sqlite_of(imported.services.repertoire).db
    before = {int(r[0]) for r in db.execute("SELECT id FROM search_fts_data")}
    index_bytes = db.execute("SELECT sum(length(block)) FROM search_fts_data").fetchone()[0]
    rng = random.Random(8)
    later = T0 + timedelta(days=1)
    for i in range(CRISIS_MERGE + 4):  # each in its own commit: a new small segment each
        imported.handle(_question(rng, f"9{i:03d}.0", later + timedelta(seconds=i)))
    written = sum(
        int(length)
        for row_id, length in db.execute("SELECT id, length(block) FROM search_fts_data")
        if int(row_id) not in before
    )
    assert written < index_bytes / 4


def test_an_import_leaves_the_common_words_counted(imported: Core) -> None:
    repertoire = imported.services.repertoire
    db = sqlite_of(repertoire).db
    counted = dict(db.execute("SELECT term, doc FROM similar_df").fetchall())
    frequent = dict(
        db.execute("SELECT term, doc FROM search_vocab WHERE doc > ?", [FREQUENT_DF]).fetchall()
    )
    assert counted == frequent and {"how", "do"} <= set(counted)  # in all 1,500 questions
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    find_similar(repertoire, "how do I w17x?", None, answered_only=False)
    db.conn.set_trace_callback(None)
    asked = [s for s in statements if "search_vocab" in s]
    assert asked and not any("'how'" in s or "'do'" in s for s in asked)  # only the rare one
