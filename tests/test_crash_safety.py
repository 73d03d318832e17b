"""Kill the bot with SIGKILL at random points; nothing acknowledged is lost.

SQLite runs in WAL mode with ``synchronous=NORMAL``: a transaction is durable
once committed as far as a process crash goes (the WAL is in the OS page
cache); only a power loss can roll back the last transactions. Each kill here
is followed by ``PRAGMA integrity_check`` and a check that every message the
driver acknowledged is stored; a final run completes the work. The default
run kills 12 times within a run's first 50 acknowledgements (the kill lands
mid-transaction just the same, and the run is short); the long variant
(``slow``: 100 kills anywhere in a run of 400) is for a change to the write path.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests import crash_driver

PER_RUN = 400
#: Drivers fork from one server process that has imported the driver (and copbot).
FORKS = multiprocessing.get_context("forkserver")
FORKS.set_forkserver_preload(["__main__", "tests.crash_driver"])


def _run_until_killed(db: Path, start: int, kill_after: int) -> set[int]:
    """Start the driver, SIGKILL it after ``kill_after`` acks; the acked numbers.

    The driver is forked from a server that imported copbot once: the same code in
    its own process, without an interpreter's start-up per kill.
    """
    receiver, sender = FORKS.Pipe(duplex=False)
    process = FORKS.Process(
        target=crash_driver.run_forked, args=(str(db), start, PER_RUN, sender), daemon=True
    )
    process.start()
    sender.close()
    acked: set[int] = set()
    try:
        while len(acked) < kill_after:
            line = receiver.recv()
            assert isinstance(line, str) and line.startswith("ACK "), line
            acked.add(int(line.split()[1]))
    finally:
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join()
        receiver.close()
    assert process.exitcode == -signal.SIGKILL
    return acked


def _stored_pairs(db: Path) -> tuple[set[str], set[str], str]:
    conn = sqlite3.connect(db)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        questions = {
            r[0] for r in conn.execute("SELECT message_id FROM entries WHERE kind = 'question'")
        }
        answers = {
            r[0] for r in conn.execute("SELECT message_id FROM entries WHERE kind = 'answer'")
        }
        # FTS5's own check raises if the index no longer matches its content.
        conn.execute("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")
    finally:
        conn.close()
    return questions, answers, check


@pytest.mark.parametrize(
    ("kills", "most_acks"), [(12, 50), pytest.param(100, PER_RUN - 1, marks=pytest.mark.slow)]
)
def test_sigkill_never_loses_an_acknowledged_message(
    tmp_path: Path, kills: int, most_acks: int
) -> None:
    db = tmp_path / "crash.db"
    rng = random.Random(20261123)
    acked_total: set[int] = set()
    start = 0
    for _ in range(kills):
        acked = _run_until_killed(db, start, kill_after=rng.randint(1, most_acks))
        acked_total |= acked
        questions, answers, check = _stored_pairs(db)
        assert check == "ok"
        missing = {n for n in acked_total if f"q{n}" not in questions or f"a{n}" not in answers}
        assert not missing, f"acknowledged but lost after SIGKILL: {sorted(missing)[:5]}"
        # Re-runs start where the last kill landed, overlapping what may be stored already.
        start = max(acked) - rng.randint(0, 5)
    # A run that is not killed completes, and the overlap made no duplicates.
    finished = subprocess.run(
        [sys.executable, "-m", "tests.crash_driver", str(db), str(start), "20"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert finished.stdout.strip().endswith("DONE")
    conn = sqlite3.connect(db)
    try:
        duplicates = conn.execute(
            "SELECT count(*) FROM (SELECT message_id FROM entries GROUP BY platform, workspace, "
            "channel, message_id, kind HAVING count(*) > 1)"
        ).fetchone()[0]
    finally:
        conn.close()
    assert duplicates == 0
