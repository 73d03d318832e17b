"""The semantic stage's background job, on a real SQLite file with a small test embedder.

No model download: :class:`HashedWords` implements the ``Embedder`` protocol with a
hashed bag of words (numpy only, which the dev install has). What is checked: new
entries get vectors without capture waiting for the model; deleted, edited and
forgotten entries' vectors go; a private entry's vector never surfaces elsewhere.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_core
from bot.config import Settings
from bot.core import Core
from bot.events import (
    Actor,
    CommandInvocation,
    IncomingMessage,
    MessageDeleted,
    MessageEdited,
    Reply,
    Visibility,
    Where,
)
from bot.forget import carry_out, plan_for
from bot.ports import FixedClock
from bot.runtime import AsyncCore
from bot.semantic_job import EmbeddingJob
from knowledge.models import ChannelRef
from knowledge.semantic import embed_missing, pending, semantic_ranking, store_vectors
from knowledge.similar import SUGGEST_THRESHOLD, find_similar
from tests.semantic_support import HashedWords
from tests.sqlite_file import sqlite_of
from tests.streams import START

np = pytest.importorskip("numpy")

HELP = Where("slack", "T1", "C1", Visibility.PUBLIC, "help")
OTHER = Where("slack", "T1", "C2", Visibility.PUBLIC, "other")
SECRET = Where("slack", "T1", "G1", Visibility.PRIVATE, "secret")
ASKER = Actor("slack", "U1", "Ada Asker", "T1")
HELPER = Actor("slack", "U2", "Hal Helper", "T1")


class GatedWords(HashedWords):
    """Blocks in ``encode`` until released: the model is busy for as long as the test wants."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def encode(self, texts: list[str]) -> Any:
        self.entered.set()
        assert self.release.wait(10), "the test never released the model"
        return super().encode(texts)


def ask(core: Core, where: Where, mid: str, text: str, minutes: int = 0) -> None:
    at = START + timedelta(minutes=minutes)
    core.handle(IncomingMessage(where, ASKER, mid, text, at))
    core.handle(IncomingMessage(where, HELPER, f"{mid}-a", "Try this fix.", at, thread_id=mid))


def vectors(core: Core, model: str = HashedWords.name) -> dict[int, bytes]:
    rows = (
        sqlite_of(core.repertoire)
        .db.execute("SELECT entry_id, vector FROM entry_embeddings WHERE model = ?", [model])
        .fetchall()
    )
    return {int(r[0]): bytes(r[1]) for r in rows}


def entry_id(core: Core, mid: str) -> int:
    rows = (
        sqlite_of(core.repertoire)
        .db.execute("SELECT id FROM entries WHERE message_id = ? AND kind != 'answer'", [mid])
        .fetchall()
    )
    assert len(rows) == 1, rows
    return int(rows[0][0])


@pytest.fixture
def core(tmp_path: Path) -> Any:
    core = build_core(Settings(), tmp_path / "job.db", clock=FixedClock(START))
    yield core
    core.repertoire.close()


def test_new_entries_get_vectors_while_capture_goes_on(core: Core) -> None:
    ask(core, HELP, "q1", "How do I rotate the snowflake key?")
    embedder = GatedWords()

    async def scenario() -> None:
        async_core = AsyncCore(core)
        job = EmbeddingJob(async_core, embedder, batch=8)
        try:
            running = asyncio.create_task(job.run_once())
            await asyncio.to_thread(embedder.entered.wait, 60)
            assert embedder.entered.is_set()
            # The model is busy with q1: capture and a command still go through at once.
            new = IncomingMessage(HELP, ASKER, "q2", "Why does kafka consumer lag grow?", START)
            await asyncio.wait_for(async_core.handle(new), timeout=60)
            search = CommandInvocation(HELP, HELPER, "search snowflake", START, event_id="s1")
            replies = await asyncio.wait_for(async_core.handle(search), timeout=60)
            # A command too: the search finds q1 by its words, while it has no vector.
            [reply] = replies
            assert isinstance(reply, Reply)
            assert [item.title for item in reply.items] == [
                "How do I rotate the snowflake key?"
            ]
            assert embedder.entered.is_set() and not embedder.release.is_set()
            assert vectors(core) == {}  # nothing written while the model works
            embedder.release.set()
            assert (await asyncio.wait_for(running, timeout=60)).embedded == 1
            assert set(vectors(core)) == {entry_id(core, "q1")}
            # The next run picks up the entry captured meanwhile.
            assert (await job.run_once()).embedded == 1
            assert set(vectors(core)) == {entry_id(core, "q1"), entry_id(core, "q2")}
            # Later runs look only at what is new, and find nothing to do.
            calls = len(embedder.calls)
            assert (await job.run_once()).embedded == 0
            assert len(embedder.calls) == calls
            ask(core, HELP, "q3", "Where are the airflow logs?")
            assert (await job.run_once()).embedded == 1
        finally:
            embedder.release.set()
            await job.stop()
            async_core.close()

    asyncio.run(scenario())
    # Only questions and know-how are embedded, never the answers.
    assert len(vectors(core)) == 3


def test_batches_are_bounded_and_text_is_title_and_body_first(core: Core) -> None:
    for n in range(5):
        long = f"Question number {n}: why are grafana panels empty? " + "detail " * 300 + "why?"
        ask(core, HELP, f"q{n}", long)
    embedder = HashedWords()
    assert embed_missing(sqlite_of(core.repertoire), embedder, batch=2) == 5
    assert [len(c) for c in embedder.calls] == [2, 2, 1]
    text = embedder.calls[0][0]
    assert text.startswith("Question number 0: why are grafana panels empty?")
    assert len(text) <= 1000  # a long paste is cut: its start says what it is about


def test_deleted_edited_and_forgotten_entries_lose_their_vectors(core: Core) -> None:
    ask(core, HELP, "q1", "How do I rotate the snowflake key?")
    ask(core, HELP, "q2", "Why does kafka consumer lag grow?", minutes=1)
    embedder = HashedWords()
    assert embed_missing(sqlite_of(core.repertoire), embedder) == 2
    q1, q2 = entry_id(core, "q1"), entry_id(core, "q2")
    before = semantic_ranking(sqlite_of(core.repertoire), embedder, "rotate snowflake key", None)
    assert before[0][0] == q1

    core.handle(MessageDeleted(HELP, "q1"))
    assert set(vectors(core)) == {q2}  # at once, not at the next sweep
    after = semantic_ranking(sqlite_of(core.repertoire), embedder, "rotate snowflake key", None)
    assert q1 not in {i for i, _ in after}

    old = vectors(core)[q2]
    core.handle(MessageEdited(HELP, "q2", "Why does the redis cache miss?", START))
    assert q2 not in vectors(core)  # the old text's vector is gone with the edit
    assert [p.entry_id for p in pending(sqlite_of(core.repertoire), embedder.name).items] == [q2]
    assert embed_missing(sqlite_of(core.repertoire), embedder) == 1
    assert vectors(core)[q2] != old

    (plan,) = plan_for(core, "ada")
    carry_out(core, plan)
    assert vectors(core) == {}


def test_a_batch_read_before_a_delete_or_edit_writes_nothing_for_it(core: Core) -> None:
    ask(core, HELP, "q1", "How do I rotate the snowflake key?")
    ask(core, HELP, "q2", "Why does kafka consumer lag grow?", minutes=1)
    embedder = HashedWords()
    batch = pending(sqlite_of(core.repertoire), embedder.name).items
    assert len(batch) == 2
    # While the model works on the batch, q1 is deleted and q2 edited.
    core.handle(MessageDeleted(HELP, "q1"))
    core.handle(MessageEdited(HELP, "q2", "Why does the redis cache miss?", START))
    stored = store_vectors(
        sqlite_of(core.repertoire), embedder.name, batch, embedder.encode([i.text for i in batch])
    )
    assert stored == 0 and vectors(core) == {}
    assert embed_missing(sqlite_of(core.repertoire), embedder) == 1  # q2 again, with its new text
    assert "redis" in embedder.calls[-1][0]


def test_vectors_left_behind_are_purged_by_a_full_sweep(core: Core) -> None:
    ask(core, HELP, "q1", "How do I rotate the snowflake key?")
    embedder = HashedWords()
    embed_missing(sqlite_of(core.repertoire), embedder)
    db = sqlite_of(core.repertoire).db
    # A database from before the triggers: a vector whose entry is gone.
    db.execute("DROP TRIGGER entry_embeddings_deleted")
    db.execute("DELETE FROM entries WHERE message_id = 'q1'")
    assert len(vectors(core)) == 1

    async def sweep() -> int:
        async_core = AsyncCore(core)
        job = EmbeddingJob(async_core, embedder)
        try:
            return (await job.run_once()).purged
        finally:
            await job.stop()
            async_core.close()

    assert asyncio.run(sweep()) == 1
    assert vectors(core) == {}


def test_private_vectors_never_suggest_in_another_channel(core: Core) -> None:
    ask(core, SECRET, "s1", "How do I rotate the snowflake signing key?")
    ask(core, HELP, "p1", "Where are the airflow scheduler logs?", minutes=1)
    embedder = HashedWords()
    embed_missing(sqlite_of(core.repertoire), embedder)
    secret = entry_id(core, "s1")
    question = "rotate snowflake signing key"
    inside = find_similar(
        core.repertoire, question, ChannelRef("slack", "T1", "G1"), embedder=embedder
    )
    assert [h.entry.id for h in inside][:1] == [secret]  # its own channel finds it
    for viewer in (ChannelRef("slack", "T1", "C1"), ChannelRef("slack", "T1", "C2")):
        hits = find_similar(core.repertoire, question, viewer, embedder=embedder)
        assert secret not in {h.entry.id for h in hits}
        near = semantic_ranking(sqlite_of(core.repertoire), embedder, question, viewer)
        assert secret not in {i for i, _ in near}


def test_a_question_while_the_model_loads_is_matched_by_words_without_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job loads the model when the bot starts; capture must not wait for it."""
    import bot.suggest as suggest

    loading, release = threading.Event(), threading.Event()
    model = HashedWords()

    def slow_load(choice: str) -> HashedWords:
        loading.set()
        release.wait(60)
        return model

    monkeypatch.setattr(suggest, "load_embedder", slow_load)
    monkeypatch.setattr(suggest, "_EMBEDDERS", {})
    settings = Settings.model_validate({"similar": {"semantic": "minilm-int8"}})
    core = build_core(settings, tmp_path / "loading.db")
    try:
        suggester = suggest.Suggester(core.services)
        loader = threading.Thread(target=lambda: suggester.embedder, daemon=True)
        loader.start()
        assert loading.wait(60)
        answered: list[object] = []
        asker = threading.Thread(target=lambda: answered.append(suggester.embedder), daemon=True)
        asker.start()
        asker.join(30)
        assert answered == [None]  # at once, while the model is still loading
        assert suggester.threshold == SUGGEST_THRESHOLD  # the threshold of words alone
        # The background job, started meanwhile, waits for that load instead.
        job_got: list[object] = []
        job = threading.Thread(target=lambda: job_got.append(suggester.load_embedder()))
        job.start()
        job.join(0.2)
        assert job.is_alive() and job_got == []
        release.set()
        loader.join(60)
        job.join(60)
        assert job_got == [model]
        assert suggester.embedder is model  # loaded once, then shared
    finally:
        release.set()
        core.services.repertoire.close()
