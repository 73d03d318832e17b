"""The set-wise import written in parts (SQLite): channels handed over as the import leaves them.

The equivalence with the one-by-one replay is ``tests/test_setwise_import.py``'s
(its small batches close channels too); here what the parts add: memory holds
the open channels only, an export that comes back to a channel gets the same
repertoire, and a failure part-way leaves the file as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from adapters.importers.slack_export import SlackExport
from bench.synth import generate
from bot.app import build_core
from bot.config import Settings
from bot.import_book import CHANNEL, PLATFORM, WORKSPACE
from bot.import_replay import ImportItem, run_import
from bot.setwise_import import SetwiseImport
from knowledge.models import EntryKind
from knowledge.sqlite import setwise_parts
from knowledge.sqlite.setwise_load import SqliteSetwiseLoader
from knowledge.sqlite.setwise_parts import SqliteSetwiseParts
from knowledge.storage import EntryFilter, Viewer
from tests.setwise_backends import Cores, make_cores, state
from tests.sqlite_file import sqlite_of
from tests.test_setwise_import import (
    ANN,
    BOB,
    CAT,
    DAN,
    OTHER,
    PUBLIC,
    SECRET,
    assert_same,
    msg,
    react,
)


@pytest.fixture
def cores(tmp_path: Path) -> Iterator[Cores]:
    yield from make_cores("sqlite", tmp_path, dict)


@pytest.mark.parametrize("documents_at_once", [1, 50_000])
def test_an_export_that_comes_back_to_a_channel_gives_the_same_repertoire(
    cores: Cores, monkeypatch: pytest.MonkeyPatch, documents_at_once: int
) -> None:
    """A channel closed (written, its documents built now or waiting) and then added to again."""
    monkeypatch.setattr(setwise_parts, "DOCUMENTS_AT_ONCE", documents_at_once)
    taken_back: list[tuple[str, str, str]] = []
    take_back = SqliteSetwiseParts.take_back

    def spying(parts: SqliteSetwiseParts, channel: tuple[str, str, str]) -> Any:
        taken_back.append(channel)
        return take_back(parts, channel)

    monkeypatch.setattr(SqliteSetwiseParts, "take_back", spying)
    events: list[ImportItem] = [
        msg(PUBLIC, ANN, "1", "how do I pin a dependency? #deps", 0),
        msg(PUBLIC, BOB, "2", "use a lock file", 1, thread="1"),
        react(PUBLIC, "1", DAN, "+1", 1.5),
        msg(OTHER, CAT, "3", "why is the queue slow?", 2),
        # Back in the first channel: its question's document must take the new answer,
        # the earlier answer is accepted, a reaction is renewed, a message is saved.
        msg(PUBLIC, CAT, "4", "or a constraints file", 3, thread="1"),
        react(PUBLIC, "2", ANN, "white_check_mark", 4),
        react(PUBLIC, "1", DAN, "+1", 4.5),
        react(PUBLIC, "4", DAN, "pushpin", 5),
        react(PUBLIC, "2", DAN, "pray", 6),
        msg(SECRET, DAN, "5", "how do we rotate the token?", 7),
        msg(OTHER, ANN, "6", "the consumer lags", 8, thread="3"),
        react(PUBLIC, "2", DAN, "pray", 9),  # the same thanks again: once
        msg(SECRET, CAT, "7", "with the vault cli", 10, thread="5"),
    ]
    slow, _ = assert_same(cores, lambda: events, batch_size=2)
    assert set(taken_back) == {("slack", "T1", "C1"), ("slack", "T1", "C2"),
                                       ("slack", "T1", "G1")}  # fmt: skip
    entries = {e["message_id"]: e for e in slow["export"]["entries"] if e["kind"] == "answer"}
    assert entries["2"]["accepted"] and not entries["4"]["accepted"]
    documents = dict((row[0], row[3]) for row in slow["documents"])
    assert documents[1] == "use a lock file\nor a constraints file"  # accepted first


def test_memory_holds_only_the_channel_the_import_is_in(
    cores: Cores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After each batch, the rows of every channel the import has left are handed over.

    A Slack export is read channel by channel: no channel is ever taken back, not
    even when a batch that moved on asks for a save in the channel it left.
    """
    held: list[set[tuple[str, str, str]]] = []
    checkpoint = SetwiseImport.checkpoint
    monkeypatch.setattr(SqliteSetwiseParts, "take_back", None)  # fails if called

    def spying(setwise: SetwiseImport, current: tuple[str, str, str] | None = None) -> None:
        checkpoint(setwise, current)
        held.append(
            {(r[PLATFORM], r[WORKSPACE], r[CHANNEL]) for r in setwise.book.entries.values()}
        )

    monkeypatch.setattr(SetwiseImport, "checkpoint", spying)
    monkeypatch.setattr(setwise_parts, "DOCUMENTS_AT_ONCE", 100)  # built along the way too
    generate(2_500, tmp_path / "synth", seed=5)
    export = tmp_path / "synth" / "export"
    slow, summary = assert_same(cores, lambda: SlackExport(export), batch_size=200)
    assert len(held) > 10 and max(len(channels) for channels in held) == 1
    assert sum(summary.made.values()) == len(slow["export"]["entries"]) > 500


def test_the_one_write_load_gives_the_same_repertoire(
    cores: Cores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A storage that does not write in parts gets the whole plan at the end (PostgreSQL's way):
    on SQLite, the parts' writer with the plan as its one part, in the import's transaction."""
    monkeypatch.setattr(SqliteSetwiseLoader, "parts", lambda loader: None)
    generate(1_500, tmp_path / "synth", seed=7)
    export = tmp_path / "synth" / "export"
    slow, _ = assert_same(cores, lambda: SlackExport(export), batch_size=100)
    assert len(slow["documents"]) > 100


def test_a_member_renamed_after_their_channel_was_written(cores: Cores) -> None:
    events: list[ImportItem] = []
    for i, (where, name) in enumerate(
        [(PUBLIC, "ann"), (OTHER, "Ann B."), (SECRET, ""), (PUBLIC, "ann b"), (OTHER, "Ann")]
    ):
        events.append(
            msg(where, replace(ANN, display_name=name), f"q{i}", f"how do I pin tool {i}?", i * 2)
        )
        events.append(msg(where, BOB, f"a{i}", "with a lock file", i * 2 + 1, thread=f"q{i}"))
    for size in (1, 2, 3):
        slow, _ = assert_same(cores, lambda: events, batch_size=size)
        names = {m["user_id"]: m["display_name"] for m in slow["export"]["members"]}
        assert names["U1"] == "Ann"


def _failing(events: Iterable[ImportItem]) -> Iterator[ImportItem]:
    yield from events
    raise OSError("the export's disk went away")


def test_a_failure_part_way_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    events: list[ImportItem] = [
        msg(where, ANN, f"{i}", f"how do I start number {i}?", i)
        for i, where in enumerate([PUBLIC, PUBLIC, OTHER, OTHER, SECRET, SECRET])
    ]
    core = build_core(Settings(), tmp_path / "copbot.db")
    db = sqlite_of(core.services.repertoire).db
    schema = db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    written: list[int] = []
    write = SqliteSetwiseParts.write

    def counting(parts: SqliteSetwiseParts, part: Any) -> None:
        written.append(len(part.entries))
        write(parts, part)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SqliteSetwiseParts, "write", counting)
        patch.setattr(setwise_parts, "DOCUMENTS_AT_ONCE", 1)  # documents written too
        with pytest.raises(OSError, match="went away"):
            run_import(core, _failing(events), batch_size=1)
    assert written and sum(written) >= 4  # two channels were written before the failure
    repertoire = core.services.repertoire
    everything = Viewer.operator_including_private()
    assert repertoire.count_entries(everything, EntryFilter()) == 0
    assert not db.conn.in_transaction
    assert db.execute("SELECT count(*) FROM search_fts").fetchone() == (0,)
    assert db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall() == (
        schema
    )
    # The same import again goes set-wise (the file is empty) and completes.
    summary = run_import(core, events, batch_size=1)
    assert summary.made[EntryKind.QUESTION.value] == 6
    replayed = build_core(Settings(), tmp_path / "replayed.db")
    run_import(replayed, events, batch_size=1, setwise=False)
    try:
        assert state(core) == state(replayed)
    finally:
        replayed.services.repertoire.close()
        repertoire.close()
