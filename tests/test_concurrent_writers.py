"""An import next to another writer: it waits, retries whole batches, and drops nothing.

Another process on the same SQLite file (the running bot, a second import) is
played by a second connection in a thread: it commits small writes all the
time, or holds the write lock for a while. The import goes through the real
``copbot import`` command, and must end with every message stored, or stop
with a non-zero exit that says what was not imported.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.cli import cli
from bot.app import build_core
from bot.config import Settings
from knowledge.sqlite.repertoire import Repertoire

QUESTIONS = 150
ANSWERS_EACH = 3


def _write_export(folder: Path) -> None:
    """A Slack export of one channel: questions, each with a thread of answers."""
    folder.mkdir()
    users = [
        {"id": f"U{i}", "name": f"user{i}", "profile": {"display_name": f"user{i}"}}
        for i in range(5)
    ]
    (folder / "users.json").write_text(json.dumps(users))
    (folder / "channels.json").write_text(json.dumps([{"id": "C1", "name": "help"}]))
    (folder / "groups.json").write_text("[]")
    (folder / "dms.json").write_text("[]")
    (folder / "mpims.json").write_text("[]")
    (folder / "help").mkdir()
    messages: list[dict[str, object]] = []
    for q in range(QUESTIONS):
        ts = f"{1_700_000_000 + q * 100}.000100"
        messages.append(
            {"type": "message", "user": "U0", "text": f"How do I fix build {q}?", "ts": ts,
             "thread_ts": ts}
        )  # fmt: skip
        for a in range(ANSWERS_EACH):
            messages.append(
                {"type": "message", "user": f"U{a + 1}", "thread_ts": ts,
                 "ts": f"{1_700_000_000 + q * 100 + a + 1}.000100",
                 "text": f"Pin version {q}.{a} of the compiler",
                 "reactions": [{"name": "+1", "users": ["U4"], "count": 1}]}
            )  # fmt: skip
    (folder / "help" / "2023-11-14.json").write_text(json.dumps(messages))


def _entries(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM entries").fetchone()[0])


@contextmanager
def _busy_neighbour(db: Path) -> Iterator[None]:
    """Another writer in a write transaction most of the time (a busy bot, another import).

    A transaction that reads first and then wants to write while the other
    holds the lock cannot wait for it: SQLite answers "database is locked" at
    once. Only a transaction that takes the write lock first can wait.
    """
    stop = threading.Event()

    def work() -> None:
        conn = sqlite3.connect(db, isolation_level=None, timeout=30)
        try:
            n = 0
            while not stop.is_set():
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('neighbour', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [str(n)],
                )
                time.sleep(0.1)
                conn.execute("COMMIT")
                n += 1
                time.sleep(0.005)
        finally:
            conn.close()

    thread = threading.Thread(target=work)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextmanager
def _lock_held(db: Path, seconds: float) -> Iterator[None]:
    """Another writer holding the write lock for ``seconds`` (a long transaction)."""
    held = threading.Event()

    def work() -> None:
        conn = sqlite3.connect(db, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            held.set()
            time.sleep(seconds)
            conn.execute("COMMIT")
        finally:
            conn.close()

    thread = threading.Thread(target=work)
    thread.start()
    held.wait()
    try:
        yield
    finally:
        thread.join()


def _fresh_db(tmp_path: Path) -> Path:
    db = tmp_path / "copbot.db"
    build_core(Settings(), db).repertoire.close()  # created and migrated before the race
    return db


def _import(export: Path, db: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["import", str(export), "--db", str(db), "--batch-size", "100", "--no-progress",
              *extra],
    )  # fmt: skip
    return result.exit_code, result.output


def test_an_import_beside_a_busy_writer_stores_every_message(tmp_path: Path) -> None:
    export = tmp_path / "export"
    _write_export(export)
    db = _fresh_db(tmp_path)
    with _busy_neighbour(db):
        code, output = _import(export, db)
    assert (code, _entries(db)) == (0, QUESTIONS * (1 + ANSWERS_EACH)), output
    assert "failed" not in output


def test_another_writer_committing_mid_batch_loses_no_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race made certain: the other writer commits just after a batch first reads.

    A batch that began by reading cannot write after that commit (its snapshot
    is stale, and SQLite does not wait): every event of the batch failed, and
    the import said "failed N events" and exited 0. A batch that takes the
    write lock first keeps the other writer out until it commits.
    """
    export = tmp_path / "export"
    _write_export(export)
    db = _fresh_db(tmp_path)
    original = Repertoire.set_reaction
    raced: list[str] = []

    def neighbour_commits() -> None:
        conn = sqlite3.connect(db, isolation_level=None, timeout=0.2)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO meta (key, value) VALUES ('neighbour', 'was here')")
            conn.execute("COMMIT")
            raced.append("committed")
        except sqlite3.OperationalError as exc:
            raced.append(str(exc))  # kept out: the batch holds the write lock
        finally:
            conn.close()

    def set_reaction(self: Repertoire, *args: Any, **kwargs: Any) -> None:
        # Once, at the first reaction of the second batch (after its first reads).
        if not raced and _entries(db) > 0:
            thread = threading.Thread(target=neighbour_commits)
            thread.start()
            thread.join()
        original(self, *args, **kwargs)

    monkeypatch.setattr(Repertoire, "set_reaction", set_reaction)
    code, output = _import(export, db, "--one-by-one")
    assert raced
    assert (code, _entries(db)) == (0, QUESTIONS * (1 + ANSWERS_EACH)), output
    assert "failed" not in output


def test_a_batch_that_finds_the_lock_taken_is_tried_again_whole(tmp_path: Path) -> None:
    export = tmp_path / "export"
    _write_export(export)
    db = _fresh_db(tmp_path)
    # Each try waits a quarter of --lock-wait (0.5 s); the lock is held twice that.
    with _lock_held(db, 1.0):
        code, output = _import(export, db, "--lock-wait", "2")
    assert (code, _entries(db)) == (0, QUESTIONS * (1 + ANSWERS_EACH)), output


def test_an_import_locked_out_too_long_stops_non_zero_and_a_rerun_completes(
    tmp_path: Path,
) -> None:
    export = tmp_path / "export"
    _write_export(export)
    db = _fresh_db(tmp_path)
    with _lock_held(db, 0.8):
        code, output = _import(export, db, "--lock-wait", "0.3")
    assert code != 0
    assert "import stopped" in output and "locked by another writer" in output
    assert "were not imported" in output
    code, output = _import(export, db)
    assert (code, _entries(db)) == (0, QUESTIONS * (1 + ANSWERS_EACH)), output


def test_a_live_event_waits_out_another_writer_longer_than_the_busy_timeout(
    tmp_path: Path,
) -> None:
    from bot.app import command_registry
    from bot.core import Core
    from bot.events import Actor, IncomingMessage, Visibility, Where
    from bot.ports import FixedClock, Services
    from tests.streams import START

    db = _fresh_db(tmp_path)
    repertoire = Repertoire.open(db, busy_timeout_ms=200)
    core = Core(Services(repertoire, Settings(), FixedClock(START)), command_registry())
    help_ = Where("slack", "T1", "C1", Visibility.PUBLIC, "help")
    try:
        with _lock_held(db, 0.3):  # longer than one try waits
            core.handle(
                IncomingMessage(help_, Actor("slack", "U1"), "q1", "How do I fix it?", START)
            )
        assert (core.failed_events, _entries(db)) == (0, 1)
    finally:
        repertoire.close()


def test_an_event_that_fails_makes_the_import_exit_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = tmp_path / "export"
    _write_export(export)
    db = _fresh_db(tmp_path)
    original = Repertoire.set_reaction
    calls: list[int] = []

    def set_reaction(self: Repertoire, *args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 7:
            raise RuntimeError("disk on fire")
        original(self, *args, **kwargs)

    monkeypatch.setattr(Repertoire, "set_reaction", set_reaction)
    code, output = _import(export, db, "--one-by-one")
    assert code == 1
    assert "failed 1 events" in output


class Deadlocked(Exception):
    """What psycopg raises for the victim of a deadlock between two workers (SQLSTATE 40P01)."""

    sqlstate = "40P01"


def test_a_live_event_deadlocked_three_times_in_a_row_is_still_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Seen with three workers on one PostgreSQL on a loaded machine: one event met a
    # deadlock with other workers' groups three tries in a row, and was lost.
    from bot.app import command_registry
    from bot.core import Core
    from bot.events import Actor, IncomingMessage, Visibility, Where
    from bot.ports import FixedClock, Services
    from tests.streams import START

    db = _fresh_db(tmp_path)
    repertoire = Repertoire.open(db)
    core = Core(Services(repertoire, Settings(), FixedClock(START)), command_registry())
    original = Repertoire.mark_event_seen
    tries: list[float] = []

    def deadlocked_thrice(self: Repertoire, *args: Any) -> bool:
        tries.append(time.monotonic())
        if len(tries) <= 3:
            raise Deadlocked("deadlock detected")
        return original(self, *args)

    monkeypatch.setattr(Repertoire, "mark_event_seen", deadlocked_thrice)
    help_ = Where("slack", "T1", "C1", Visibility.PUBLIC, "help")
    try:
        core.handle(
            IncomingMessage(
                help_, Actor("slack", "U1"), "q1", "How do I fix it?", START, event_id="Ev1"
            )
        )
        assert (core.failed_events, _entries(db)) == (0, 1)
        assert len(tries) == 4
    finally:
        repertoire.close()
