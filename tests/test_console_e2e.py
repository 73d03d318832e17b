"""End to end: the real ``copbot`` program, a scripted terminal chat on stdin, a real file.

Message ids are read from what the chat printed, never assumed; each step that needs an id
from the step before is a new run of the program on the same database (which also shows
that threads and reactions work across runs).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.config import CONFIG_ENV_VAR

COPBOT = Path(sys.executable).parent / "copbot"

pytestmark = pytest.mark.skipif(not COPBOT.exists(), reason="copbot is not installed in the venv")


def copbot(
    tmp_path: Path, *args: str, stdin: str | bytes = b"", env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in (CONFIG_ENV_VAR, "COPBOT_LOG_LEVEL")}
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    done = subprocess.run(
        [str(COPBOT), *args],
        input=data,
        capture_output=True,
        cwd=tmp_path,  # no stray ./copbot.toml
        env={**env, "LC_ALL": "C.UTF-8", **(env_extra or {})},
        check=False,
        timeout=120,
    )
    out = subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    )
    assert out.returncode == 0, f"copbot {args} failed:\n{out.stdout}\n{out.stderr}"
    assert "Traceback" not in out.stderr, out.stderr
    return out


def demo(tmp_path: Path, db: Path, *lines: str) -> str:
    return copbot(tmp_path, "demo", "--db", str(db), stdin="\n".join([*lines, "/quit", ""])).stdout


def stats(tmp_path: Path, db: Path) -> dict[str, int]:
    counts = json.loads(copbot(tmp_path, "stats", "--json", "--db", str(db)).stdout)
    assert isinstance(counts, dict)
    return counts


def search_json(tmp_path: Path, db: Path, query: str) -> dict[str, Any]:
    found = json.loads(copbot(tmp_path, "search", query, "--db", str(db), "--json").stdout)
    assert isinstance(found, dict)
    return found


def id_of(printed: str, text: str) -> str:
    """The ``[mN]`` id of the printed line that says ``text``."""
    for line in printed.splitlines():
        if text in line:
            match = re.search(r"\[(m\d+)\]", line)
            if match:
                return match.group(1)
    raise AssertionError(f"no id printed for {text!r} in:\n{printed}")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """One first run of the demo, shared by the tests here: (working dir, database, output).

    Each test uses words of its own, and compares counts before and after its own steps.
    """
    work = tmp_path_factory.mktemp("e2e")
    db = work / "demo.db"
    printed = demo(work, db, "/cop search pandas memory")
    return work, db, printed


def test_first_run_seeds_the_sample_and_search_shows_results(
    seeded: tuple[Path, Path, str],
) -> None:
    work, db, printed = seeded
    assert "Loaded the sample community" in printed
    match = re.search(r"(\d+) results? for “pandas memory”", printed)
    assert match and int(match.group(1)) >= 1
    assert re.search(r"^1\. \[(Q|Know-how[^\]]*)\] .*pandas", printed, re.M | re.I)
    # Piped, the marks are plain words: no markdown asterisks, no escape codes.
    assert "**" not in printed and "\x1b[" not in printed
    counts = stats(work, db)
    assert counts["questions"] > 0 and counts["answers"] > 0 and counts["knowhow"] > 0
    assert counts["accepted"] > 0


def test_a_second_run_does_not_seed_again(seeded: tuple[Path, Path, str]) -> None:
    work, db, _printed = seeded
    before = stats(work, db)
    second = demo(work, db, "/cop stats")
    assert "Loaded the sample community" not in second
    assert "Repertoire:" in second
    assert stats(work, db) == before


def test_ask_reply_react_flow_marks_accepted(seeded: tuple[Path, Path, str]) -> None:
    work, db, _printed = seeded
    question = "How do I read a zorblax file fast?"
    first = demo(work, db, "/as alice", question, "/cop ask Where do the zorblax logs go?")
    before = stats(work, db)
    asked = id_of(first, question)
    posted = id_of(first, "asks: Where do the zorblax logs go?")

    second = demo(
        work,
        db,
        "/as chen",
        f"/reply {asked} use the quuxify reader",
        f"/reply {posted} in the quuxify bucket",
    )
    answer1 = id_of(second, "use the quuxify reader")
    answer2 = id_of(second, "in the quuxify bucket")

    third = demo(
        work, db, "/as alice", f"/react {answer1} ✅", f"/react {answer2} white_check_mark"
    )
    assert third.count("Marked as the accepted answer. Thanks, Chen Wei!") == 2

    after = stats(work, db)
    assert after["questions"] == before["questions"]  # both questions were already counted
    assert after["answers"] == before["answers"] + 2
    assert after["accepted"] == before["accepted"] + 2
    assert after["unanswered"] == before["unanswered"] - 2

    found = search_json(work, db, "zorblax")
    by_title = {r["title"]: r for r in found["results"]}
    assert set(by_title) == {question, "Where do the zorblax logs go?"}
    for result in by_title.values():
        assert result["answered"] and result["answer_author"] == "Chen Wei"
        assert "quuxify" in result["answer_snippet"]


def test_search_json_from_the_command_line(seeded: tuple[Path, Path, str]) -> None:
    work, db, _printed = seeded
    data = search_json(work, db, "airflow retries")
    assert data["query"] == "airflow retries"
    assert data["results"]
    for result in data["results"]:
        assert {"title", "snippet", "author", "created_at", "channel_name", "kind"} <= set(result)
        assert result["channel_name"] != "platform-team"  # private: not without --channel


@pytest.mark.parametrize("stdin_errors", ["default", "strict"])
def test_piped_bytes_that_are_not_utf8_do_not_stop_the_chat(
    seeded: tuple[Path, Path, str], stdin_errors: str
) -> None:
    work, db, _printed = seeded
    word = f"wibble{stdin_errors}"
    script = f"How do I read caf\xe9 {word} exports?\n/cop search {word}\n/quit\n"
    extra = {"PYTHONIOENCODING": "utf-8:strict"} if stdin_errors == "strict" else {}
    printed = copbot(
        work, "demo", "--db", str(db), stdin=script.encode("latin-1"), env_extra=extra
    ).stdout
    assert f"1 result for “{word}”" in printed
