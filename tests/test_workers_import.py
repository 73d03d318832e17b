"""Two ``copbot import`` of one export at once into one PostgreSQL equal one import.

A second operator (or a retried cron job) starting the same import while the
first runs must not make anything twice: entries, members, reactions,
acceptance and counts all end as after a single import, because the database's
unique keys decide (``INSERT ... ON CONFLICT``), not either process's memory.

Two ways the imports meet:

* event by event (``--one-by-one``), small batches make them interleave
  throughout, and the unique keys decide;
* into an empty database, both would choose the set-wise path ("the
  repertoire is empty") and the second write would find it full. Left to the
  scheduler, the two rarely meet there (the first import's choice and write
  are milliseconds apart at this size), so :func:`writes_held` holds every
  write back until both imports have made their choice: without the lock that
  makes the choice one import's at a time, both choose set-wise and one fails.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql as pgsql

from tests.test_workers_load import differences, state
from tests.workers_harness import COPBOT, copbot_env, database_url

pytestmark = pytest.mark.workers

CHANNELS = {"C1": ("help", False), "C2": ("data", False), "G1": ("team", True)}
#: Questions per channel: the long variant's size (``--runslow``) is big enough that, without
#: taking turns, the two imports deadlocked on every retry of a batch until one gave up.
SMALL = 20
QUESTIONS = [SMALL, pytest.param(120, marks=pytest.mark.slow)]
ANSWERS_EACH = 3
USERS = [f"U{i}" for i in range(8)]


def write_export(folder: Path, questions_per_channel: int) -> int:
    """A Slack export: questions with threads of answers, accepted ones, votes; its size."""
    folder.mkdir()
    users = [
        {"id": u, "name": u.lower(), "profile": {"display_name": f"Member {u}"}} for u in USERS
    ]
    (folder / "users.json").write_text(json.dumps(users))
    public = [{"id": c, "name": n} for c, (n, private) in CHANNELS.items() if not private]
    private = [{"id": c, "name": n} for c, (n, private) in CHANNELS.items() if private]
    (folder / "channels.json").write_text(json.dumps(public))
    (folder / "groups.json").write_text(json.dumps(private))
    count = 0
    for number, (name, _) in enumerate(CHANNELS.values()):
        (folder / name).mkdir()
        messages: list[dict[str, Any]] = []
        for q in range(questions_per_channel):
            base = 1_700_000_000 + number * 1_000_000 + q * 100
            asker = USERS[q % len(USERS)]
            ts = f"{base}.000100"
            messages.append(
                {"type": "message", "user": asker, "text": f"How do I fix build {q} of {name}?",
                 "ts": ts, "thread_ts": ts}
            )  # fmt: skip
            for a in range(ANSWERS_EACH):
                answerer = USERS[(q + a + 1) % len(USERS)]
                reactions = [{"name": "+1", "users": [USERS[(q + 5) % len(USERS)]], "count": 1}]
                if a == q % (ANSWERS_EACH + 1):  # one answer in four questions stays unaccepted
                    reactions.append({"name": "white_check_mark", "users": [asker], "count": 1})
                messages.append(
                    {"type": "message", "user": answerer, "thread_ts": ts,
                     "ts": f"{base + a + 1}.000100", "text": f"Pin version {q}.{a} of {name}",
                     "reactions": reactions}
                )  # fmt: skip
        count += len(messages)
        (folder / name / "2023-11-14.json").write_text(json.dumps(messages))
    return count


def importing(export: Path, db_url: str, cwd: Path, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(COPBOT), "import", str(export), "--batch-size", "50", "--no-progress", *options],
        env=copbot_env(db_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=cwd,
    )


def finished(process: subprocess.Popen[str]) -> str:
    output, _ = process.communicate(timeout=240)
    assert process.returncode == 0, output
    return output


#: How long the imports may take to reach their first write (process start included).
MEETING_DEADLINE_SECONDS = 120

#: This database's sessions opened since the test's lock (%s), among them the imports'.
_NEW_SESSIONS = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_start > %s"
)
#: New sessions waiting for a table lock: an import at its write, behind the test's lock.
_WAITING_FOR_A_TABLE = (
    f"SELECT count(DISTINCT pid) FROM pg_locks WHERE pid IN ({_NEW_SESSIONS}) "
    "AND NOT granted AND locktype = 'relation'"
)
#: New sessions refused an advisory lock (the set-wise import's turn), holding none.
_REFUSED_A_TURN = (
    f"SELECT count(*) FROM pg_stat_activity a WHERE a.pid IN ({_NEW_SESSIONS}) "
    "AND a.query LIKE 'SELECT pg_try_advisory_lock%%' AND NOT EXISTS (SELECT 1 FROM pg_locks l "
    "WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted)"
)


@contextmanager
def writes_held(dsn: str) -> Iterator[datetime]:
    """Every table locked against writes (reads go on) until the block ends; when it began."""
    with psycopg.connect(dsn) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'schema_migrations' ORDER BY tablename"
            )
        ]
        conn.execute(
            pgsql.SQL("LOCK TABLE {} IN SHARE MODE").format(
                pgsql.SQL(", ").join(map(pgsql.Identifier, tables))
            )
        )
        row = conn.execute("SELECT clock_timestamp()").fetchone()
        assert row is not None
        yield row[0]
        conn.rollback()


def _count(conn: psycopg.Connection[Any], query: str, since: datetime) -> int:
    row = conn.execute(query, [since]).fetchone()
    return int(row[0]) if row else 0


def wait_until_both_chose(dsn: str, since: datetime, both: list[subprocess.Popen[str]]) -> None:
    """Until each import is held: at its write (behind the test's lock) or waiting its turn."""
    deadline = time.monotonic() + MEETING_DEADLINE_SECONDS
    with psycopg.connect(dsn, autocommit=True) as probe:
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in both):
                return  # one ended early: its output says why
            held = _count(probe, _WAITING_FOR_A_TABLE, since)
            held += _count(probe, _REFUSED_A_TURN, since)
            if held >= len(both):
                return
            time.sleep(0.05)
    pytest.fail(f"the two imports did not reach their write in {MEETING_DEADLINE_SECONDS} s")


@pytest.mark.parametrize("questions", QUESTIONS)
def test_two_concurrent_imports_of_one_export_equal_one_import(
    questions: int, pg_dsn: str, pg_fresh_dsn: str, tmp_path: Path
) -> None:
    export = tmp_path / "export"
    size = write_export(export, questions)
    once = finished(importing(export, database_url(pg_fresh_dsn), tmp_path))
    both = [importing(export, database_url(pg_dsn), tmp_path, "--one-by-one") for _ in range(2)]
    outputs = [finished(process) for process in both]
    expected, got = state(pg_fresh_dsn), state(pg_dsn)
    assert got == expected, differences(got, expected)
    assert len(expected["entries"]) == size
    assert sum(1 for e in expected["entries"] if e[10]) == len(CHANNELS) * questions * 3 // 4
    for output in [once, *outputs]:
        assert "failed" not in output, output


def test_two_imports_into_an_empty_database_take_turns_at_the_set_wise_choice(
    pg_dsn: str, pg_fresh_dsn: str, tmp_path: Path
) -> None:
    export = tmp_path / "export"
    size = write_export(export, SMALL)
    once = finished(importing(export, database_url(pg_fresh_dsn), tmp_path))
    with writes_held(pg_dsn) as since:
        both = [importing(export, database_url(pg_dsn), tmp_path) for _ in range(2)]
        wait_until_both_chose(pg_dsn, since, both)
    outputs = [finished(process) for process in both]
    expected, got = state(pg_fresh_dsn), state(pg_dsn)
    assert got == expected, differences(got, expected)
    assert len(expected["entries"]) == size
    for output in [once, *outputs]:
        assert "failed" not in output, output
