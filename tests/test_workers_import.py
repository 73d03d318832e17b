"""Two ``copbot import`` of one export at once into one PostgreSQL equal one import.

A second operator (or a retried cron job) starting the same import while the
first runs must not make anything twice: entries, members, reactions,
acceptance and counts all end as after a single import, because the database's
unique keys decide (``INSERT ... ON CONFLICT``), not either process's memory.
Small batches make the two imports interleave throughout.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.test_workers_load import differences, state
from tests.workers_harness import COPBOT, copbot_env, database_url

pytestmark = pytest.mark.workers

CHANNELS = {"C1": ("help", False), "C2": ("data", False), "G1": ("team", True)}
#: Questions per channel: the long variant's size (``--runslow``) is big enough that, without
#: taking turns, the two imports deadlocked on every retry of a batch until one gave up.
QUESTIONS = [20, pytest.param(120, marks=pytest.mark.slow)]
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


def importing(export: Path, db_url: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(COPBOT), "import", str(export), "--batch-size", "50", "--no-progress"],
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


@pytest.mark.parametrize("questions", QUESTIONS)
def test_two_concurrent_imports_of_one_export_equal_one_import(
    questions: int, pg_dsn: str, pg_fresh_dsn: str, tmp_path: Path
) -> None:
    export = tmp_path / "export"
    size = write_export(export, questions)
    once = finished(importing(export, database_url(pg_fresh_dsn), tmp_path))
    both = [importing(export, database_url(pg_dsn), tmp_path) for _ in range(2)]
    outputs = [finished(process) for process in both]
    expected, got = state(pg_fresh_dsn), state(pg_dsn)
    assert got == expected, differences(got, expected)
    assert len(expected["entries"]) == size
    assert sum(1 for e in expected["entries"] if e[10]) == len(CHANNELS) * questions * 3 // 4
    for output in [once, *outputs]:
        assert "failed" not in output, output
