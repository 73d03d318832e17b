"""Contract: the semantic stage's stored vectors, on both backends.

A deterministic embedder (:class:`~tests.semantic_support.HashedWords`) stands
in for the model: what is checked is the storage side. Vectors are written and
read back as bytes (a BLOB on SQLite, ``bytea`` on PostgreSQL), the sweep picks
up only what is new or edited, an entry's vectors go with it whatever deletes
or edits it, and the ranking shows a viewer only what it may see. The
background job runs against a core built on each backend.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import build_core
from bot.config import Settings
from bot.events import Actor, IncomingMessage, MessageDeleted, MessageEdited, Visibility, Where
from bot.ports import FixedClock
from bot.runtime import AsyncCore
from bot.semantic_job import EmbeddingJob
from knowledge.backends import DatabaseTarget
from knowledge.models import ChannelRef, EntryKind
from knowledge.postgres.repertoire import PostgresRepertoire
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.semantic import embed_missing, pending, purge, semantic_ranking, store_vectors
from tests.contract.support import DM, PRIVATE, PUBLIC, T0, Community, open_backend
from tests.semantic_support import HashedWords

np = pytest.importorskip("numpy")


def stored(repertoire: RelationalRepertoire, model: str = HashedWords.name) -> dict[int, bytes]:
    """The vectors in the database, by entry id, as the bytes they were written as."""
    rows = repertoire.sql.rows(
        "SELECT entry_id, vector FROM entry_embeddings WHERE model = ?", [model]
    )
    return {int(r[0]): bytes(r[1]) for r in rows}


def dsn_for(backend: str, request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("pg_dsn")) if backend == "postgres" else ""


def test_vectors_round_trip_as_float32_bytes_to_another_connection(
    repertoire: RelationalRepertoire,
    community: Community,
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    ana = community.member("U-ana")
    key = community.say(EntryKind.KNOWHOW, PUBLIC, "rotate the snowflake key", ana)
    lag = community.say(EntryKind.KNOWHOW, PUBLIC, "kafka consumer lag grows", ana)
    embedder = HashedWords()
    assert embed_missing(repertoire, embedder) == 2
    vectors = stored(repertoire)
    assert set(vectors) == {key.id, lag.id}
    expected = embedder.encode(["rotate the snowflake key"])[0]
    assert np.frombuffer(vectors[key.id], dtype="float32").tolist() == expected.tolist()
    # A second connection ranks from what the database holds, not from this one's memory.
    other = open_backend(backend, tmp_path, dsn_for(backend, request))
    try:
        ranked = semantic_ranking(other, embedder, "kafka consumer lag grows", None)
    finally:
        other.close()
    assert [i for i, _ in ranked] == [lag.id, key.id]
    assert ranked[0][1] == pytest.approx(1.0, abs=1e-5)
    assert ranked[1][1] == pytest.approx(0.0, abs=1e-5)


def test_the_sweep_picks_up_only_new_and_edited_questions(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana, ben = community.member("U-ana"), community.member("U-ben")
    first = community.ask(PUBLIC, "How do I rotate the snowflake key?", ana, tags=("snowflake",))
    community.answer(first, "With the admin console.", ben)
    embedder = HashedWords()
    assert embed_missing(repertoire, embedder) == 1  # answers are never embedded
    assert embedder.calls == [["How do I rotate the snowflake key?\nsnowflake"]]
    assert pending(repertoire, embedder.name).items == []
    later = community.ask(PUBLIC, "Why does kafka consumer lag grow?", ana, minutes=5)
    scan = pending(repertoire, embedder.name)
    assert [p.entry_id for p in scan.items] == [later.id] and scan.at_end
    # Past the cursor of a sweep, nothing is left to look at.
    assert pending(repertoire, embedder.name, after=scan.cursor).items == []
    assert embed_missing(repertoire, embedder) == 1
    # An edit makes the vector stale: it goes at once, and the next sweep redoes it.
    repertoire.update_text(first.source, "How do I rotate the redis password?", "", T0)
    assert set(stored(repertoire)) == {later.id}
    assert [p.entry_id for p in pending(repertoire, embedder.name).items] == [first.id]
    assert embed_missing(repertoire, embedder) == 1
    assert "redis" in embedder.calls[-1][0]


def test_an_entry_deleted_or_retitled_by_any_path_loses_its_vector(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana = community.member("U-ana")
    gone = community.ask(PUBLIC, "How do I rotate the snowflake key?", ana)
    renamed = community.ask(PUBLIC, "Why does kafka consumer lag grow?", ana, minutes=1)
    kept = community.ask(PUBLIC, "Where are the airflow logs?", ana, minutes=2)
    embed_missing(repertoire, HashedWords())
    # Neither statement mentions vectors: the schema's triggers remove them.
    repertoire.sql.execute("DELETE FROM entry_tags WHERE entry_id = ?", [gone.id])
    repertoire.sql.execute("DELETE FROM entries WHERE id = ?", [gone.id])
    repertoire.set_title(renamed.id, "Consumer lag on the orders topic")
    assert set(stored(repertoire)) == {kept.id}


def test_a_batch_read_before_a_delete_or_edit_writes_nothing_for_it(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana = community.member("U-ana")
    first = community.ask(PUBLIC, "How do I rotate the snowflake key?", ana)
    second = community.ask(PUBLIC, "Why does kafka consumer lag grow?", ana, minutes=1)
    embedder = HashedWords()
    batch = pending(repertoire, embedder.name).items
    assert [p.entry_id for p in batch] == [first.id, second.id]
    repertoire.delete_message(first.source)
    repertoire.update_text(
        second.source, "Why does the redis cache miss?", "", T0 + timedelta(hours=1)
    )
    written = store_vectors(
        repertoire, embedder.name, batch, embedder.encode([p.text for p in batch])
    )
    assert written == 0 and stored(repertoire) == {}
    # Rewriting a vector replaces it (one row per entry and model).
    fresh = pending(repertoire, embedder.name).items
    assert store_vectors(repertoire, embedder.name, fresh, embedder.encode(["one"])) == 1
    assert store_vectors(repertoire, embedder.name, fresh, embedder.encode(["two"])) == 1
    assert stored(repertoire) == {second.id: embedder.encode(["two"])[0].tobytes()}


def test_a_vector_left_behind_is_purged_from_the_database_and_memory(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana = community.member("U-ana")
    kept = community.say(EntryKind.KNOWHOW, PUBLIC, "rotate the snowflake key", ana)
    embedder = HashedWords()
    embed_missing(repertoire, embedder)
    assert [i for i, _ in semantic_ranking(repertoire, embedder, "snowflake", None)] == [kept.id]
    # A vector from before the triggers, of an entry long gone.
    orphan = kept.id + 1000
    repertoire.sql.execute(
        "INSERT INTO entry_embeddings (entry_id, model, dim, vector, updated_at) "
        "SELECT ?, model, dim, vector, updated_at FROM entry_embeddings WHERE entry_id = ?",
        [orphan, kept.id],
    )
    assert purge(repertoire, embedder.name) == 1
    assert set(stored(repertoire)) == {kept.id}
    assert purge(repertoire, embedder.name) == 0


def test_the_ranking_shows_each_viewer_only_what_it_may_see(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana = community.member("U-ana")
    text = "rotate the snowflake signing key"
    public = community.say(EntryKind.KNOWHOW, PUBLIC, text, ana)
    private = community.say(EntryKind.KNOWHOW, PRIVATE, text, ana, minutes=1)
    direct = community.say(EntryKind.KNOWHOW, DM, text, ana, minutes=2)
    unanswered = community.ask(PUBLIC, text, ana, minutes=3)
    embedder = HashedWords()
    assert embed_missing(repertoire, embedder) == 4

    def seen(viewer: ChannelRef | None, answered_only: bool = True) -> set[int]:
        ranked = semantic_ranking(repertoire, embedder, text, viewer, answered_only=answered_only)
        return {i for i, _ in ranked}

    assert seen(None) == {public.id}
    assert seen(PUBLIC) == {public.id}
    assert seen(PRIVATE) == {public.id, private.id}
    assert seen(DM) == {public.id, direct.id}
    assert seen(PUBLIC, answered_only=False) == {public.id, unanswered.id}


HELP = Where("slack", "T1", "C1", Visibility.PUBLIC, "help")
SECRET = Where("slack", "T1", "G1", Visibility.PRIVATE, "secret")
ASKER = Actor("slack", "U1", "Ada Asker", "T1")


def test_the_background_job_embeds_what_capture_stores(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    dsn = dsn_for(backend, request)
    target = DatabaseTarget(dsn, postgres=True) if dsn else DatabaseTarget(str(tmp_path / "j.db"))
    core = build_core(Settings(), target, clock=FixedClock(T0))
    assert isinstance(core.repertoire, PostgresRepertoire) == (backend == "postgres")
    embedder = HashedWords()

    def ask(where: Where, mid: str, text: str) -> None:
        core.handle(IncomingMessage(where, ASKER, mid, text, T0))

    def question_id(mid: str) -> int:
        row = core.repertoire.sql.one(
            "SELECT id FROM entries WHERE message_id = ? AND kind = 'question'", [mid]
        )
        assert row is not None
        return int(row[0])

    async def scenario() -> None:
        async_core = AsyncCore(core)
        job = EmbeddingJob(async_core, embedder, batch=8)
        try:
            ask(HELP, "q1", "How do I rotate the snowflake key?")
            ask(SECRET, "s1", "How do I rotate the snowflake signing key?")
            assert (await job.run_once()).embedded == 2
            calls = len(embedder.calls)
            assert (await job.run_once()).embedded == 0
            assert len(embedder.calls) == calls  # nothing new: the model is not called
            ask(HELP, "q2", "Why does kafka consumer lag grow?")
            assert (await job.run_once()).embedded == 1
            await async_core.handle(MessageDeleted(HELP, "q1"))
            await async_core.handle(MessageEdited(HELP, "q2", "Why does the redis cache miss?", T0))
        finally:
            await job.stop()
            async_core.close()

    try:
        asyncio.run(scenario())
        assert set(stored(core.repertoire)) == {question_id("s1")}
        elsewhere = semantic_ranking(
            core.repertoire,
            embedder,
            "rotate snowflake signing key",
            ChannelRef("slack", "T1", "C1"),
            answered_only=False,
        )
        assert question_id("s1") not in {i for i, _ in elsewhere}
        inside = semantic_ranking(
            core.repertoire,
            embedder,
            "rotate snowflake signing key",
            ChannelRef("slack", "T1", "G1"),
            answered_only=False,
        )
        assert [i for i, _ in inside][:1] == [question_id("s1")]
    finally:
        core.repertoire.close()
